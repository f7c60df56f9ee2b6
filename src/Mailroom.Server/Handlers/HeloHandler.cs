using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>
/// HELO (RFC 5321 4.1.1.1): the RFC 821 greeting. No service extensions follow it, and, like
/// EHLO, it ends any transaction in progress (section 4.1.4).
/// </summary>
internal static class HeloHandler
{
    public static async Task HandleAsync(SmtpSession session, HeloCommand command)
    {
        await session.GreetAsync(command.ClientIdentity, extended: false).ConfigureAwait(false);
        session.Reply(ReplyCatalogue.HeloOk.Format(session.Options.HostName, command.ClientIdentity));
    }
}
