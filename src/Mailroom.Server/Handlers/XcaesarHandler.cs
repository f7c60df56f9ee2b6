using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>
/// XCAESAR &lt;shift&gt;: the original design's Caesar cipher, kept as an opt-in for old clients.
/// It is obfuscation, not encryption: it protects nothing. Offered only when the configuration
/// allows it and only on a connection without TLS; the 220 goes out in clear, and from then on
/// both sides shift every byte.
/// </summary>
internal static class XcaesarHandler
{
    public static async Task HandleAsync(SmtpSession session, CaesarCommand command)
    {
        if (!session.CanStartCaesar)
        {
            session.ReplyProtocolError(ReplyCatalogue.CaesarUnavailable);
            return;
        }

        session.Reply(ReplyCatalogue.CaesarOn.Format(command.Shift));
        await session.FlushAsync().ConfigureAwait(false);
        await session.StartCaesarAsync(command.Shift).ConfigureAwait(false);
    }
}
