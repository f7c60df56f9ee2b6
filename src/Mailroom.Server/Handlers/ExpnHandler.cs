using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>EXPN (RFC 5321 4.1.1.7, 3.5.2): there are no lists to expand yet, so the command is not available (502).</summary>
internal static class ExpnHandler
{
    public static Task HandleAsync(SmtpSession session, ArgumentCommand command)
    {
        _ = command;
        session.Reply(ReplyCatalogue.ExpnDisabled);
        return Task.CompletedTask;
    }
}
