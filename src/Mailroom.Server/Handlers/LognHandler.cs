using Mailroom.Protocol.Commands;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>
/// LOGN &lt;user&gt; &lt;password&gt;, the original design's log-in, under AUTH's rules: only under
/// TLS (538 5.7.11), once (503), the same throttle, the same replies.
/// </summary>
internal static class LognHandler
{
    public static async Task HandleAsync(SmtpSession session, LognCommand command)
    {
        if (session.RefuseLogIn())
        {
            return;
        }

        await session.LogInAsync(command.User, command.Password, mechanism: "LOGN").ConfigureAwait(false);
    }
}
