using System.Globalization;
using System.Net;

namespace Mailroom.Protocol.Addressing;

/// <summary>
/// The path grammar of RFC 5321 section 4.1.2, extended by RFC 6531 section 3.3 when UTF-8 is
/// allowed. Each function is named after the ABNF rule it implements, takes the text from a start
/// index and returns the index just past what it matched, or -1.
/// </summary>
public static class PathGrammar
{
    /// <summary>RFC 5321 4.5.3.1.1: the maximum total length of a user name or other local-part is 64 octets.</summary>
    public const int MaxLocalPartOctets = 64;

    /// <summary>RFC 5321 4.5.3.1.2: the maximum total length of a domain name or number is 255 octets.</summary>
    public const int MaxDomainOctets = 255;

    /// <summary>RFC 5321 4.5.3.1.3: the maximum total length of a reverse-path or forward-path is 256 octets.</summary>
    public const int MaxPathOctets = 256;

    /// <summary>
    /// <c>Reverse-path = Path / "&lt;&gt;"</c>. A null reverse-path yields <paramref name="mailbox"/> null.
    /// </summary>
    public static int TryParseReversePath(ReadOnlySpan<char> text, int start, bool allowUtf8, out SmtpMailbox? mailbox)
    {
        mailbox = null;
        if (text[start..].StartsWith("<>", StringComparison.Ordinal))
        {
            return start + 2;
        }

        return TryParsePath(text, start, allowUtf8, out mailbox);
    }

    /// <summary>
    /// <c>Forward-path = Path</c>, plus <c>"&lt;Postmaster&gt;"</c> (RFC 5321 4.1.1.3), case-insensitive.
    /// </summary>
    public static int TryParseForwardPath(ReadOnlySpan<char> text, int start, bool allowUtf8, out SmtpMailbox? mailbox)
    {
        const string postmaster = "<postmaster>";
        if (text[start..].StartsWith(postmaster, StringComparison.OrdinalIgnoreCase))
        {
            mailbox = new SmtpMailbox(text.Slice(start + 1, postmaster.Length - 2).ToString(), string.Empty);
            return start + postmaster.Length;
        }

        return TryParsePath(text, start, allowUtf8, out mailbox);
    }

    /// <summary>
    /// <c>Path = "&lt;" [ A-d-l ":" ] Mailbox "&gt;"</c>. The source route (A-d-l) is parsed and,
    /// as RFC 5321 4.1.1.3 and appendix C require, ignored.
    /// </summary>
    public static int TryParsePath(ReadOnlySpan<char> text, int start, bool allowUtf8, out SmtpMailbox? mailbox)
    {
        mailbox = null;
        if (start >= text.Length || text[start] != '<')
        {
            return -1;
        }

        var i = start + 1;
        if (i < text.Length && text[i] == '@')
        {
            i = TryParseAdl(text, i, allowUtf8);
            if (i < 0 || i >= text.Length || text[i] != ':')
            {
                return -1;
            }

            i++;
        }

        i = TryParseMailbox(text, i, allowUtf8, out mailbox);
        if (i < 0 || i >= text.Length || text[i] != '>')
        {
            mailbox = null;
            return -1;
        }

        if (Utf8Length(text, start, i + 1 - start) > MaxPathOctets)
        {
            mailbox = null;
            return -1;
        }

        return i + 1;
    }

    /// <summary><c>A-d-l = At-domain *( "," At-domain )</c>; <c>At-domain = "@" Domain</c>.</summary>
    public static int TryParseAdl(ReadOnlySpan<char> text, int start, bool allowUtf8)
    {
        var i = start;
        while (true)
        {
            if (i >= text.Length || text[i] != '@')
            {
                return -1;
            }

            i = TryParseDomain(text, i + 1, allowUtf8);
            if (i < 0)
            {
                return -1;
            }

            if (i < text.Length && text[i] == ',')
            {
                i++;
                continue;
            }

            return i;
        }
    }

    /// <summary><c>Mailbox = Local-part "@" ( Domain / address-literal )</c>.</summary>
    public static int TryParseMailbox(ReadOnlySpan<char> text, int start, bool allowUtf8, out SmtpMailbox? mailbox)
    {
        mailbox = null;
        var at = TryParseLocalPart(text, start, allowUtf8);
        if (at < 0 || at >= text.Length || text[at] != '@')
        {
            return -1;
        }

        if (Utf8Length(text, start, at - start) > MaxLocalPartOctets)
        {
            return -1;
        }

        var domainStart = at + 1;
        var end = domainStart < text.Length && text[domainStart] == '['
            ? TryParseAddressLiteral(text, domainStart)
            : TryParseDomain(text, domainStart, allowUtf8);
        if (end < 0 || Utf8Length(text, domainStart, end - domainStart) > MaxDomainOctets)
        {
            return -1;
        }

        mailbox = new SmtpMailbox(text[start..at].ToString(), text[domainStart..end].ToString());
        return end;
    }

    /// <summary><c>Local-part = Dot-string / Quoted-string</c>.</summary>
    public static int TryParseLocalPart(ReadOnlySpan<char> text, int start, bool allowUtf8) =>
        start < text.Length && text[start] == '"'
            ? TryParseQuotedString(text, start, allowUtf8)
            : TryParseDotString(text, start, allowUtf8);

    /// <summary><c>Dot-string = Atom *("." Atom)</c>.</summary>
    public static int TryParseDotString(ReadOnlySpan<char> text, int start, bool allowUtf8)
    {
        var i = TryParseAtom(text, start, allowUtf8);
        while (i > 0 && i < text.Length && text[i] == '.')
        {
            i = TryParseAtom(text, i + 1, allowUtf8);
        }

        return i;
    }

    /// <summary><c>Atom = 1*atext</c> (RFC 5322 atext; RFC 6531 adds UTF8-non-ascii).</summary>
    public static int TryParseAtom(ReadOnlySpan<char> text, int start, bool allowUtf8)
    {
        var i = start;
        while (i < text.Length && IsAtext(text[i], allowUtf8))
        {
            i++;
        }

        return i > start ? i : -1;
    }

    /// <summary>
    /// <c>Quoted-string = DQUOTE *QcontentSMTP DQUOTE</c>;
    /// <c>QcontentSMTP = qtextSMTP / quoted-pairSMTP</c>; <c>quoted-pairSMTP = %d92 %d32-126</c>.
    /// </summary>
    public static int TryParseQuotedString(ReadOnlySpan<char> text, int start, bool allowUtf8)
    {
        if (start >= text.Length || text[start] != '"')
        {
            return -1;
        }

        var i = start + 1;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '"')
            {
                return i + 1;
            }

            if (c == '\\')
            {
                if (i + 1 >= text.Length || text[i + 1] < 32 || text[i + 1] > 126)
                {
                    return -1;
                }

                i += 2;
                continue;
            }

            // qtextSMTP = %d32-33 / %d35-91 / %d93-126, or UTF8-non-ascii under RFC 6531.
            if (!((c >= 32 && c <= 126) || (allowUtf8 && c > 127)))
            {
                return -1;
            }

            i++;
        }

        return -1;
    }

    /// <summary>
    /// <c>Domain = sub-domain *("." sub-domain)</c>; <c>sub-domain = Let-dig [Ldh-str]</c>, or a
    /// U-label under RFC 6531 3.3.
    /// </summary>
    public static int TryParseDomain(ReadOnlySpan<char> text, int start, bool allowUtf8)
    {
        var i = TryParseSubDomain(text, start, allowUtf8);
        while (i > 0 && i < text.Length && text[i] == '.')
        {
            i = TryParseSubDomain(text, i + 1, allowUtf8);
        }

        return i;
    }

    /// <summary><c>sub-domain = Let-dig [Ldh-str]</c>; <c>Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig</c>.</summary>
    public static int TryParseSubDomain(ReadOnlySpan<char> text, int start, bool allowUtf8)
    {
        var i = start;
        if (i >= text.Length || !IsLetDig(text[i], allowUtf8))
        {
            return -1;
        }

        i++;
        while (i < text.Length && (IsLetDig(text[i], allowUtf8) || text[i] == '-'))
        {
            i++;
        }

        // A label may not end with a hyphen, and RFC 1035 caps it at 63 octets.
        if (text[i - 1] == '-' || Utf8Length(text, start, i - start) > 63)
        {
            return -1;
        }

        return i;
    }

    /// <summary>
    /// <c>address-literal = "[" ( IPv4-address-literal / IPv6-address-literal / General-address-literal ) "]"</c>.
    /// </summary>
    public static int TryParseAddressLiteral(ReadOnlySpan<char> text, int start)
    {
        if (start >= text.Length || text[start] != '[')
        {
            return -1;
        }

        var close = text[start..].IndexOf(']');
        if (close < 0)
        {
            return -1;
        }

        close += start;

        var inner = text.Slice(start + 1, close - start - 1);
        if (inner.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.TryParse(inner[5..], out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                ? close + 1
                : -1;
        }

        if (IsIPv4Literal(inner))
        {
            return close + 1;
        }

        // General-address-literal = Standardized-tag ":" 1*dcontent
        var colon = inner.IndexOf(':');
        if (colon <= 0 || colon == inner.Length - 1)
        {
            return -1;
        }

        var tag = inner[..colon].ToString();
        if (TryParseSubDomain(tag, 0, allowUtf8: false) != tag.Length)
        {
            return -1;
        }

        foreach (var c in inner[(colon + 1)..])
        {
            // dcontent = %d33-90 / %d94-126
            if (c < 33 || c > 126 || (c >= 91 && c <= 93))
            {
                return -1;
            }
        }

        return close + 1;
    }

    /// <summary><c>IPv4-address-literal = Snum 3("." Snum)</c>; <c>Snum = 1*3DIGIT</c> up to 255.</summary>
    public static bool IsIPv4Literal(ReadOnlySpan<char> text)
    {
        var parts = 0;
        foreach (var range in text.Split('.'))
        {
            var part = text[range];
            if (part.Length is < 1 or > 3 || part.IndexOfAnyExceptInRange('0', '9') >= 0 ||
                int.Parse(part, NumberStyles.None, CultureInfo.InvariantCulture) > 255)
            {
                return false;
            }

            parts++;
        }

        return parts == 4;
    }

    /// <summary>RFC 5322 atext, plus UTF8-non-ascii when RFC 6531 applies.</summary>
    public static bool IsAtext(char c, bool allowUtf8) =>
        char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-/=?^_`{|}~".Contains(c, StringComparison.Ordinal) || (allowUtf8 && c > 127 && !char.IsControl(c) && !char.IsWhiteSpace(c));

    private static bool IsLetDig(char c, bool allowUtf8) =>
        char.IsAsciiLetterOrDigit(c) || (allowUtf8 && c > 127 && char.IsLetterOrDigit(c)) || (allowUtf8 && char.IsSurrogate(c));

    private static int Utf8Length(ReadOnlySpan<char> text, int start, int length) =>
        System.Text.Encoding.UTF8.GetByteCount(text.Slice(start, length));
}
