using System.Buffers;
using System.Globalization;
using System.Security.Authentication;
using System.Text;
using Mailroom.Core.Audit;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;

namespace Mailroom.Server.Session;

/// <summary>
/// What the audit log keeps of a command line, a reply or a log-in: the one place where protocol
/// text becomes audit text, and so the one place where secrets are taken out (RFC 4954 4 and
/// RFC 4616 2: a SASL payload can carry the password itself). Everything a client sends is
/// treated as hostile: what is kept is cut to length, and a line that did not parse keeps its
/// arguments only when its verb is known and carries no secret. Message content (DATA, BDAT
/// chunks) and SASL responses to a 334 never come here at all.
/// </summary>
internal static class AuditText
{
    /// <summary>Arguments are cut to this length (a command line may be configured longer than 512 octets).</summary>
    private const int MaxArgumentsLength = 512;

    /// <summary>The longest user name kept for a log-in: an address is at most 254 octets (RFC 5321 4.5.3.1.3).</summary>
    private const int MaxUserLength = 256;

    /// <summary>What stands for a word the log does not keep: an unknown verb, an unknown SASL mechanism.</summary>
    public const string Unknown = "<unknown>";

    /// <summary>
    /// SASL mechanisms a client may name (the IANA registry's common ones). Any other word after
    /// AUTH is not kept: a client that leaves the mechanism out puts its payload there.
    /// </summary>
    private static readonly HashSet<string> KnownMechanisms = new(StringComparer.Ordinal)
    {
        "PLAIN", "LOGIN", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-1", "SCRAM-SHA-1-PLUS", "CRAM-MD5",
        "DIGEST-MD5", "NTLM", "GSSAPI", "XOAUTH2", "OAUTHBEARER", "EXTERNAL", "ANONYMOUS",
    };

    /// <summary>
    /// Verbs this server does not implement but clients and scanners send (other SMTP extensions,
    /// and the first words of HTTP, POP3 and IMAP probes): kept by name, so cross-protocol probing
    /// shows in the log. Any other first word is not kept: it may be a password or a SASL
    /// response typed or sent where a command was expected.
    /// </summary>
    private static readonly HashSet<string> KnownForeignVerbs = new(StringComparer.Ordinal)
    {
        "SEND", "SOML", "SAML", "TURN", "ETRN", "ATRN", "BURL", "LHLO", "XCLIENT", "XFORWARD", "XEXCH50", "VERB", "ONEX",
        "DEBUG", "WIZ", "KILL", "XUSR", "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PRI",
        "USER", "PASS", "APOP", "STAT", "RETR", "CAPA", "STLS", "LOGIN", "SELECT", "CAPABILITY",
    };

    /// <summary>The verb as the command table spells it ("MAIL", "XCAESAR").</summary>
    public static string Verb(SmtpVerb verb) => CommandTable.Get(verb).Name;

    /// <summary>A parsed command's arguments, with every secret replaced by <see cref="AuditEvent.Redacted"/>; null when it has none.</summary>
    public static string? Arguments(SmtpCommand command) => command switch
    {
        // RFC 4954 4: the initial response is a SASL payload (PLAIN's holds the password), so only the mechanism stays.
        AuthCommand auth => (KnownMechanisms.Contains(auth.Mechanism) ? auth.Mechanism : Unknown) + (auth.InitialResponse is null ? string.Empty : " " + AuditEvent.Redacted),
        LognCommand logn => $"{Cut(logn.User, MaxUserLength)} {AuditEvent.Redacted}",
        HeloCommand helo => Cut(helo.ClientIdentity, MaxArgumentsLength),
        MailCommand mail => Cut("FROM:" + mail.RawPath + Parameters(mail.Parameters), MaxArgumentsLength),
        RcptCommand rcpt => Cut("TO:" + rcpt.RawPath + Parameters(rcpt.Parameters), MaxArgumentsLength),

        // RFC 3030 2: the size and the end marker; the chunk is message content and is never kept.
        BdatCommand bdat => string.Create(CultureInfo.InvariantCulture, $"{bdat.ChunkSize}{(bdat.Last ? " LAST" : string.Empty)}"),
        CaesarCommand caesar => caesar.Shift.ToString(CultureInfo.InvariantCulture),
        FlagCommand flag => Flag(flag),

        // HELP, VRFY, EXPN, READ and DELE take a topic, an address or a mailbox name.
        ArgumentCommand argument => argument.Argument.Length == 0 ? null : Cut(argument.Argument, MaxArgumentsLength),

        // DATA, RSET, QUIT, NOOP (whose string is dropped unread), STARTTLS and the mailbox verbs
        // without arguments; a command type added later keeps nothing until it is listed here.
        _ => null,
    };

    /// <summary>
    /// The verb and arguments of a line that is not a command (500, 501, a bare LF, a line too long).
    /// The first word is kept when it is a verb (ours, or one another protocol or extension uses);
    /// the arguments only when it is one of ours other than AUTH and LOGN and the line was not cut short.
    /// <paramref name="line"/> is the whole line or, for a line too long, its first octets.
    /// </summary>
    public static (string Verb, string? Arguments) Unparsed(ReadOnlySpan<byte> line, bool tooLong)
    {
        // The word ends at the first octet that is not printable ASCII, not only at a space: a
        // tab or an 8-bit octet after "AUTH" must not make the payload behind it part of the word.
        var end = line.IndexOfAnyExceptInRange((byte)0x21, (byte)0x7e);
        var word = Printable(end < 0 ? line : line[..end], allowSpace: false);
        if (CommandTable.TryGet(word, out var info))
        {
            var secret = info.Verb is SmtpVerb.Auth or SmtpVerb.Logn;
            var rest = end < 0 ? ReadOnlySpan<byte>.Empty : line[(end + 1)..];
            return (info.Name, tooLong || secret || rest.IsEmpty ? null : Cut(Printable(rest, allowSpace: true), MaxArgumentsLength));
        }

        // A client that sends SASL responses nobody asked for (after AUTH was refused, or after a
        // 501 ended the exchange), a password typed on a line of its own, a client that shifts
        // its bytes for an XCAESAR the server refused: each is read as a command. Only a word
        // known to be a verb is kept; any part of any other word could be the secret.
        var upper = word.ToUpperInvariant();
        return (KnownForeignVerbs.Contains(upper) ? upper : Unknown, null);
    }

    /// <summary>A reply as the audit log keeps it: "250 2.1.0", or just "354" without an enhanced code.</summary>
    public static string Reply(SmtpReply reply) => reply.Enhanced is { } enhanced
        ? string.Create(CultureInfo.InvariantCulture, $"{reply.Code} {enhanced}")
        : reply.Code.ToString(CultureInfo.InvariantCulture);

    /// <summary>RFC 5321 4.2.1: 2yz and 3yz went well, 4yz failed for now, 5yz failed for good.</summary>
    public static AuditOutcome Outcome(SmtpReply reply) => reply.Code switch
    {
        < 400 => AuditOutcome.Ok,
        < 500 => AuditOutcome.Deferred,
        _ => AuditOutcome.Refused,
    };

    /// <summary>The account a log-in was for, as the directory compares names (lower case, invariant).</summary>
    public static string UserName(string user) => Cut(Printable(user), MaxUserLength).ToLowerInvariant();

    /// <summary>The listener's role as the audit log names it.</summary>
    public static string Listener(ListenerRole role) => role switch
    {
        ListenerRole.Submission => "submission",
        ListenerRole.Submissions => "submissions",
        _ => "smtp",
    };

    /// <summary>Why a TLS handshake failed, as a class of reason: never the exception's text or stack.</summary>
    public static string TlsFailure(Exception exception) => exception switch
    {
        AuthenticationException => "handshake failed",
        OperationCanceledException => "handshake timed out",
        _ => "connection closed during the handshake",
    };

    private static string Parameters(IReadOnlyList<EsmtpParameter> parameters) =>
        string.Concat(parameters.Select(p => p.Value is null ? " " + p.Keyword : $" {p.Keyword}={p.Value}"));

    private static string Flag(FlagCommand flag) => (flag.Important ? "important" : "read") + (flag.Value ? " on" : " off");

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..max];

    /// <summary>Octets as printable ASCII: anything else (controls, 8-bit, invalid UTF-8) becomes '?'.</summary>
    private static string Printable(ReadOnlySpan<byte> octets, bool allowSpace)
    {
        var text = new StringBuilder(Math.Min(octets.Length, MaxArgumentsLength + 1));
        foreach (var b in octets[..Math.Min(octets.Length, MaxArgumentsLength + 1)])
        {
            text.Append(b is > 0x20 and < 0x7f || (allowSpace && b == 0x20) ? (char)b : '?');
        }

        return text.ToString();
    }

    /// <summary>A name kept in the log without controls that could forge a line in a text view of it.</summary>
    private static string Printable(string text) =>
        text.AsSpan().IndexOfAnyInRange('\0', '\x1f') < 0 ? text : string.Concat(text.Select(c => c < ' ' ? '?' : c));
}
