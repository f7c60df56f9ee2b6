using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>NEXT: the message after the current one, sent whole (see <see cref="MessageSender"/>).</summary>
internal static class NextHandler
{
    public static Task HandleAsync(SmtpSession session) => MessageSender.StepAsync(session, forward: true);
}
