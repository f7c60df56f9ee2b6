using System.Text;
using Mailroom.Protocol.Addressing;

namespace Mailroom.Fuzz.Targets;

/// <summary>
/// Every rule of <see cref="PathGrammar"/> (RFC 5321 4.1.2, RFC 6531 3.3) from an afl-chosen start:
/// a match ends inside the text, past its start, within the RFC's length limits, and a mailbox
/// written back as a path parses to the same mailbox. No match is -1, never an exception.
/// </summary>
internal static class PathTarget
{
    public static void Run(byte[] input)
    {
        var fuzz = new FuzzInput(input);
        var text = Encoding.UTF8.GetString(fuzz.Data);
        var utf8 = (fuzz.Control & 1) != 0;
        var start = (fuzz.Control >> 1) % (text.Length + 1);
        var span = text.AsSpan();

        var reverse = PathGrammar.TryParseReversePath(span, start, utf8, out var fromReverse);
        var forward = PathGrammar.TryParseForwardPath(span, start, utf8, out var fromForward);
        var path = PathGrammar.TryParsePath(span, start, utf8, out var fromPath);
        var mailbox = PathGrammar.TryParseMailbox(span, start, utf8, out var fromMailbox);
        int[] ends =
        [
            reverse, forward, path, mailbox,
            PathGrammar.TryParseAdl(span, start, utf8),
            PathGrammar.TryParseLocalPart(span, start, utf8),
            PathGrammar.TryParseDotString(span, start, utf8),
            PathGrammar.TryParseAtom(span, start, utf8),
            PathGrammar.TryParseQuotedString(span, start, utf8),
            PathGrammar.TryParseDomain(span, start, utf8),
            PathGrammar.TryParseSubDomain(span, start, utf8),
            PathGrammar.TryParseAddressLiteral(span, start),
        ];
        foreach (var end in ends)
        {
            Invariant.Check(end == -1 || (end > start && end <= text.Length), $"a rule ended at {end} for start {start} of {text.Length}");
        }

        _ = PathGrammar.IsIPv4Literal(span[start..]);
        Invariant.Check(reverse < 0 || fromReverse is not null || span[start..].StartsWith("<>", StringComparison.Ordinal), "a reverse-path matched with no mailbox and is not <>");
        Invariant.Check((forward < 0) == (fromForward is null) && (path < 0) == (fromPath is null) && (mailbox < 0) == (fromMailbox is null), "a match without a mailbox, or a mailbox without a match");
        Invariant.Check(path < 0 || Encoding.UTF8.GetByteCount(text[start..path]) <= PathGrammar.MaxPathOctets, "a path over 256 octets");
        foreach (var parsed in new[] { fromReverse, fromForward, fromPath, fromMailbox })
        {
            if (parsed is not null)
            {
                CheckMailbox(parsed, utf8);
            }
        }
    }

    private static void CheckMailbox(SmtpMailbox parsed, bool utf8)
    {
        Invariant.Check(Encoding.UTF8.GetByteCount(parsed.LocalPart) is > 0 and <= PathGrammar.MaxLocalPartOctets, "a local part of no octets or over 64");
        Invariant.Check(Encoding.UTF8.GetByteCount(parsed.Domain) <= PathGrammar.MaxDomainOctets, "a domain over 255 octets");
        Invariant.Check(utf8 || !parsed.IsInternational, "a UTF-8 mailbox where UTF-8 is not allowed");
        var written = "<" + parsed + ">";
        var end = PathGrammar.TryParseForwardPath(written, 0, utf8, out var again);
        Invariant.Check(end == written.Length && parsed == again, $"'{written}' written back from a parsed mailbox parses as {again} ({end})");
    }
}
