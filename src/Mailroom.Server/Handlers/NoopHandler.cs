using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>NOOP (RFC 5321 4.1.1.9): nothing but a 250.</summary>
internal static class NoopHandler
{
    public static Task HandleAsync(SmtpSession session)
    {
        session.Reply(ReplyCatalogue.Ok);
        return Task.CompletedTask;
    }
}
