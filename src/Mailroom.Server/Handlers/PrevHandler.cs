using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>PREV: the message before the current one, sent whole (see <see cref="MessageSender"/>).</summary>
internal static class PrevHandler
{
    public static Task HandleAsync(SmtpSession session) => MessageSender.StepAsync(session, forward: false);
}
