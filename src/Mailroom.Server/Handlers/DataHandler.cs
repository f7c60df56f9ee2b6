using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>
/// DATA (RFC 5321 4.1.1.4): 354, then the message streams to the store until CRLF.CRLF. The
/// 250 goes out only after the store has committed the message durably.
/// </summary>
internal static class DataHandler
{
    public static async Task HandleAsync(SmtpSession session)
    {
        // Opening the store first lets a failing store answer 451 to DATA itself, before any content is sent.
        if (await MessageReception.BeginAsync(session).ConfigureAwait(false) is { } failure)
        {
            session.Reply(failure);
        }
        else
        {
            session.Reply(ReplyCatalogue.StartMailInput);
            await session.FlushAsync().ConfigureAwait(false);
            var sink = session.Transaction!.Sink!;
            await session.ReceiveDataAsync(sink).ConfigureAwait(false);
            await MessageReception.CompleteAsync(session, sink).ConfigureAwait(false);
        }

        await session.ResetTransactionAsync().ConfigureAwait(false);
    }
}
