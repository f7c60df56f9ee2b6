using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>RSET (RFC 5321 4.1.1.5): aborts the transaction; the greeting and its extensions stand.</summary>
internal static class RsetHandler
{
    public static async Task HandleAsync(SmtpSession session)
    {
        await session.ResetTransactionAsync().ConfigureAwait(false);
        session.Reply(ReplyCatalogue.ResetOk);
    }
}
