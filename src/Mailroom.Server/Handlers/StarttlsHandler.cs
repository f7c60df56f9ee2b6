using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>
/// STARTTLS (RFC 3207): 220, then the TLS handshake; afterwards the session starts over
/// (section 4.2: the server "MUST discard any knowledge obtained from the client, such as the
/// argument to the EHLO command"), so the client greets again and sees the keywords of the new
/// state.
/// </summary>
internal static class StarttlsHandler
{
    public static async Task HandleAsync(SmtpSession session)
    {
        if (session.Transport.IsTls)
        {
            session.ReplyProtocolError(ReplyCatalogue.TlsAlreadyActive);
            return;
        }

        if (!session.Transport.CanStartTls)
        {
            session.Reply(ReplyCatalogue.TlsNotAvailable);
            return;
        }

        session.Reply(ReplyCatalogue.ReadyToStartTls);
        await session.FlushAsync().ConfigureAwait(false);
        await session.StartTlsAsync().ConfigureAwait(false);
    }
}
