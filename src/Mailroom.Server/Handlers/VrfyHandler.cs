using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>
/// VRFY (RFC 5321 4.1.1.6, 3.5.3): until a mailbox policy decides who may learn which addresses
/// exist, the answer is 252: neither confirmed nor denied, and mail will be tried.
/// </summary>
internal static class VrfyHandler
{
    public static Task HandleAsync(SmtpSession session, ArgumentCommand command)
    {
        _ = command;
        session.Reply(ReplyCatalogue.CannotVerify);
        return Task.CompletedTask;
    }
}
