using System.Globalization;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>
/// EHLO (RFC 5321 4.1.1.1): the greeting, then one service extension keyword per line
/// (<c>ehlo-ok-rsp</c>). It ends any transaction in progress (section 4.1.4).
/// </summary>
internal static class EhloHandler
{
    public static async Task HandleAsync(SmtpSession session, HeloCommand command)
    {
        await session.GreetAsync(command.ClientIdentity, extended: true).ConfigureAwait(false);
        var first = ReplyCatalogue.EhloOk.Format(session.Options.HostName, command.ClientIdentity).Lines[0];
        session.Reply(ReplyCatalogue.EhloOk.WithLines([first, .. Keywords(session)]));
    }

    /// <summary>The extensions this session may use now, each honoured where its RFC says.</summary>
    public static IEnumerable<string> Keywords(SmtpSession session)
    {
        if (session.Transport.CanStartTls)
        {
            yield return "STARTTLS"; // RFC 3207; not after TLS is on (section 4.2)
        }

        if (session.CanAuthenticate)
        {
            yield return "AUTH " + AuthHandler.Mechanisms; // RFC 4954; only where a password would not travel in clear
        }

        yield return "PIPELINING"; // RFC 2920
        yield return string.Create(CultureInfo.InvariantCulture, $"SIZE {session.Options.MaxMessageSize}"); // RFC 1870
        yield return "8BITMIME"; // RFC 6152
        yield return "SMTPUTF8"; // RFC 6531
        yield return "ENHANCEDSTATUSCODES"; // RFC 2034
        yield return "CHUNKING"; // RFC 3030
        if (session.MailboxCommandsEnabled)
        {
            yield return "XMAILBOX"; // READ, NEXT, PREV, FLAG, DELE, LIST, RTRN after a log-in (docs/PROTOCOL.md)
        }

        if (session.CanStartCaesar)
        {
            yield return "XCAESAR"; // the original design's obfuscation; protects nothing
        }
    }
}
