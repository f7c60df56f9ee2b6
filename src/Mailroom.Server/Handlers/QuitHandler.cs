using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>QUIT (RFC 5321 4.1.1.10): 221, then the server closes. An open transaction is aborted.</summary>
internal static class QuitHandler
{
    public static async Task HandleAsync(SmtpSession session)
    {
        await session.ResetTransactionAsync().ConfigureAwait(false);
        session.Reply(ReplyCatalogue.Closing.Format(session.Options.HostName));
        session.QuitRequested = true;
    }
}
