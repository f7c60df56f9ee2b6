using System.Buffers;
using System.Globalization;
using System.Text;
using Mailroom.Protocol.Addressing;
using Mailroom.Protocol.Replies;

namespace Mailroom.Protocol.Commands;

/// <summary>A parsed command, or the reply that says why the line is not one.</summary>
/// <param name="Command">The command, when the line is one.</param>
/// <param name="Error">The reply to a line that is not a command.</param>
/// <param name="Fatal">
/// The error leaves the session unable to tell where the next command starts (a BDAT whose
/// chunk size cannot be read), so the server closes after replying.
/// </param>
public readonly record struct CommandParseResult(SmtpCommand? Command, SmtpReply? Error, bool Fatal = false)
{
    public static CommandParseResult Ok(SmtpCommand command) => new(command, null);

    public static CommandParseResult Fail(SmtpReply error) => new(null, error);
}

/// <summary>
/// Turns one command line (without its CRLF) into a command. Dispatches on the verb once, then
/// parses that verb's arguments (RFC 5321 section 4.1.1). No I/O; every rejection maps to a reply
/// from <see cref="ReplyCatalogue"/> here and nowhere else.
/// </summary>
public static class CommandParser
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static CommandParseResult Parse(ReadOnlySpan<byte> line)
    {
        var result = ParseLine(line);
        return result.Error is not null && !result.Fatal && IsBdatLine(line) ? BdatFramingLost() : result;
    }

    /// <summary>
    /// True when the line is a BDAT command, however malformed: a chunk follows it, so any error
    /// in it loses the framing (see <see cref="ParseBdat"/>).
    /// </summary>
    public static bool IsBdatLine(ReadOnlySpan<byte> line) =>
        line.Length >= 4 && Ascii.EqualsIgnoreCase(line[..4], "BDAT"u8) && (line.Length == 4 || line[4] == (byte)' ');

    /// <inheritdoc cref="IsBdatLine(ReadOnlySpan{byte})"/>
    public static bool IsBdatLine(in ReadOnlySequence<byte> line)
    {
        Span<byte> start = stackalloc byte[5];
        var prefix = line.Length >= 5 ? start : start[..(int)line.Length];
        line.Slice(0, prefix.Length).CopyTo(prefix);
        return IsBdatLine(prefix);
    }

    /// <summary>The reply to a BDAT line whose chunk cannot be found: 421, and the session closes.</summary>
    public static CommandParseResult BdatFramingLost() =>
        new(null, ReplyCatalogue.BdatFramingLost.Format(CommandTable.Get(SmtpVerb.Bdat).Syntax), Fatal: true);

    private static CommandParseResult ParseLine(ReadOnlySpan<byte> line)
    {
        // RFC 5321 2.3.8: CR and LF may only appear together as the line ending. A NUL or another
        // control character has no place in a command either.
        foreach (var b in line)
        {
            if (b < 0x20 && b != (byte)'\t')
            {
                return CommandParseResult.Fail(ReplyCatalogue.InvalidCharacters);
            }
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(line);
        }
        catch (DecoderFallbackException)
        {
            return CommandParseResult.Fail(ReplyCatalogue.InvalidCharacters);
        }

        var space = text.IndexOf(' ', StringComparison.Ordinal);
        var name = space < 0 ? text : text[..space];
        var args = space < 0 ? string.Empty : text[(space + 1)..];
        if (!CommandTable.TryGet(name, out var info))
        {
            return CommandParseResult.Fail(ReplyCatalogue.CommandUnrecognized);
        }

        return info.Verb switch
        {
            SmtpVerb.Helo or SmtpVerb.Ehlo => ParseHelo(info, args),
            SmtpVerb.Auth => ParseAuth(info, args),
            SmtpVerb.Logn => ParseLogn(info, args),
            SmtpVerb.Read => args.Trim().Length == 0 || args.Trim().Contains(' ', StringComparison.Ordinal)
                ? SyntaxError(info)
                : CommandParseResult.Ok(new ArgumentCommand(SmtpVerb.Read, args.Trim())),
            SmtpVerb.Dele => args.Trim().Contains(' ', StringComparison.Ordinal)
                ? SyntaxError(info)
                : CommandParseResult.Ok(new ArgumentCommand(SmtpVerb.Dele, args.Trim())),
            SmtpVerb.Next or SmtpVerb.Prev or SmtpVerb.List or SmtpVerb.Rtrn => args.Length == 0
                ? CommandParseResult.Ok(new SimpleCommand(info.Verb))
                : SyntaxError(info),
            SmtpVerb.Flag => ParseFlag(info, args),
            SmtpVerb.Xcaesar => byte.TryParse(args, NumberStyles.None, CultureInfo.InvariantCulture, out var shift) && shift > 0
                ? CommandParseResult.Ok(new CaesarCommand(shift))
                : SyntaxError(info),
            SmtpVerb.Mail => ParseMail(info, args),
            SmtpVerb.Rcpt => ParseRcpt(info, args),
            SmtpVerb.Bdat => ParseBdat(info, args),
            SmtpVerb.Data or SmtpVerb.Rset or SmtpVerb.Quit or SmtpVerb.Starttls => args.Length == 0
                ? CommandParseResult.Ok(new SimpleCommand(info.Verb))
                : SyntaxError(info),

            // RFC 5321 4.1.1.9: "NOOP [ SP String ]"; the string is ignored.
            SmtpVerb.Noop => CommandParseResult.Ok(new SimpleCommand(SmtpVerb.Noop)),
            SmtpVerb.Help => CommandParseResult.Ok(new ArgumentCommand(SmtpVerb.Help, args.Trim())),
            SmtpVerb.Vrfy or SmtpVerb.Expn => args.Trim().Length == 0
                ? SyntaxError(info)
                : CommandParseResult.Ok(new ArgumentCommand(info.Verb, args.Trim())),
            _ => CommandParseResult.Fail(ReplyCatalogue.CommandUnrecognized),
        };
    }

    /// <summary>
    /// <c>helo = "HELO" SP Domain CRLF</c>; <c>ehlo = "EHLO" SP ( Domain / address-literal ) CRLF</c>.
    /// Any one visible token is taken: RFC 5321 4.1.4 forbids refusing mail over what the client
    /// calls itself, and the name is only quoted in the Received header.
    /// </summary>
    private static CommandParseResult ParseHelo(CommandInfo info, string args)
    {
        var identity = args.Trim();
        if (identity.Length == 0 || identity.Contains(' ', StringComparison.Ordinal) || identity.Contains('\t', StringComparison.Ordinal))
        {
            return SyntaxError(info);
        }

        return CommandParseResult.Ok(new HeloCommand(info.Verb, identity));
    }

    /// <summary>
    /// <c>"AUTH" SP sasl-mech [SP initial-response]</c>; <c>sasl-mech = 1*20mech-char</c>,
    /// <c>mech-char = UPPER-ALPHA / DIGIT / HYPHEN / UNDERSCORE</c> (RFC 4422 3.1, matched without regard to case).
    /// </summary>
    private static CommandParseResult ParseAuth(CommandInfo info, string args)
    {
        var parts = args.Split(' ');
        if (parts.Length is < 1 or > 2 || parts[0].Length is 0 or > 20 || parts[0].AsSpan().ContainsAnyExcept(MechanismChars) ||
            (parts.Length == 2 && parts[1].Length == 0))
        {
            return SyntaxError(info);
        }

        return CommandParseResult.Ok(new AuthCommand(parts[0].ToUpperInvariant(), parts.Length == 2 ? parts[1] : null));
    }

    /// <summary>
    /// <c>"LOGN" SP user SP password</c>. The password is the rest of the line, so it may hold
    /// spaces; a syntax error never echoes it.
    /// </summary>
    private static CommandParseResult ParseLogn(CommandInfo info, string args)
    {
        var space = args.IndexOf(' ', StringComparison.Ordinal);
        return space <= 0 || space == args.Length - 1
            ? SyntaxError(info)
            : CommandParseResult.Ok(new LognCommand(args[..space], args[(space + 1)..]));
    }

    /// <summary><c>FLAG ("important" / "read") [SP ("on" / "off")]</c>, without regard to case; "on" when left out.</summary>
    private static CommandParseResult ParseFlag(CommandInfo info, string args)
    {
        var parts = args.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is < 1 or > 2)
        {
            return SyntaxError(info);
        }

        var important = parts[0].Equals("important", StringComparison.OrdinalIgnoreCase);
        if (!important && !parts[0].Equals("read", StringComparison.OrdinalIgnoreCase))
        {
            return SyntaxError(info);
        }

        if (parts.Length == 2 && !parts[1].Equals("on", StringComparison.OrdinalIgnoreCase) && !parts[1].Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            return SyntaxError(info);
        }

        return CommandParseResult.Ok(new FlagCommand(important, parts.Length == 1 || parts[1].Equals("on", StringComparison.OrdinalIgnoreCase)));
    }

    private static readonly SearchValues<char> MechanismChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    /// <summary><c>mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF</c>.</summary>
    private static CommandParseResult ParseMail(CommandInfo info, string args)
    {
        if (!TryStripPrefix(args, "FROM:", out var rest))
        {
            return SyntaxError(info);
        }

        var end = PathGrammar.TryParseReversePath(rest, 0, allowUtf8: true, out var sender);
        if (end < 0)
        {
            return CommandParseResult.Fail(ReplyCatalogue.BadSenderSyntax);
        }

        return TryParseParameters(rest, end, out var parameters)
            ? CommandParseResult.Ok(new MailCommand(sender, rest[..end], parameters))
            : SyntaxError(info);
    }

    /// <summary><c>rcpt = "RCPT TO:" ( "&lt;Postmaster@" Domain "&gt;" / "&lt;Postmaster&gt;" / Forward-path ) [SP Rcpt-parameters] CRLF</c>.</summary>
    private static CommandParseResult ParseRcpt(CommandInfo info, string args)
    {
        if (!TryStripPrefix(args, "TO:", out var rest))
        {
            return SyntaxError(info);
        }

        var end = PathGrammar.TryParseForwardPath(rest, 0, allowUtf8: true, out var recipient);
        if (end < 0 || recipient is null)
        {
            return CommandParseResult.Fail(ReplyCatalogue.BadRecipientSyntax);
        }

        return TryParseParameters(rest, end, out var parameters)
            ? CommandParseResult.Ok(new RcptCommand(recipient, rest[..end], parameters))
            : SyntaxError(info);
    }

    /// <summary>
    /// <c>bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CR LF</c>; <c>chunk-size = 1*DIGIT</c>; <c>end-marker = "LAST"</c>.
    /// A chunk of octets follows the line whatever the reply, so a BDAT line that cannot be read
    /// leaves no way to tell where the next command starts: that error is fatal (421 and close),
    /// or the chunk's content would run as commands.
    /// </summary>
    private static CommandParseResult ParseBdat(CommandInfo info, string args)
    {
        var parts = args.Split(' ');
        if (parts.Length is < 1 or > 2 || parts[0].Length is 0 or > 18 || parts[0].AsSpan().IndexOfAnyExceptInRange('0', '9') >= 0 ||
            (parts.Length == 2 && !parts[1].Equals("LAST", StringComparison.OrdinalIgnoreCase)))
        {
            return BdatFramingLost();
        }

        var last = parts.Length == 2;

        return CommandParseResult.Ok(new BdatCommand(long.Parse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture), last));
    }

    /// <summary>
    /// Takes "FROM:" or "TO:" case-insensitively. A space after the colon breaks RFC 5321 but is
    /// common among old clients, and accepting it harms nothing, so it is skipped.
    /// </summary>
    private static bool TryStripPrefix(string args, string prefix, out string rest)
    {
        rest = string.Empty;
        if (!args.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        rest = args[prefix.Length..].TrimStart(' ');
        return true;
    }

    /// <summary>
    /// <c>Mail-parameters = esmtp-param *(SP esmtp-param)</c>;
    /// <c>esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")</c>;
    /// <c>esmtp-value = 1*(%d33-60 / %d62-126)</c>, with UTF-8 allowed by RFC 6531 3.3.
    /// Trailing spaces are tolerated.
    /// </summary>
    public static bool TryParseParameters(string text, int start, out IReadOnlyList<EsmtpParameter> parameters)
    {
        parameters = [];
        var rest = text[start..].TrimEnd(' ');
        if (rest.Length == 0)
        {
            return true;
        }

        if (rest[0] != ' ')
        {
            return false;
        }

        var list = new List<EsmtpParameter>();
        foreach (var token in rest.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = token.IndexOf('=', StringComparison.Ordinal);
            var keyword = eq < 0 ? token : token[..eq];
            var value = eq < 0 ? null : token[(eq + 1)..];
            if (keyword.Length == 0 || !char.IsAsciiLetterOrDigit(keyword[0]) ||
                keyword.AsSpan().ContainsAnyExcept(KeywordChars) ||
                (value is not null && (value.Length == 0 || value.Any(c => c < 33 || c == '=' || c == 127))))
            {
                return false;
            }

            list.Add(new EsmtpParameter(keyword, value));
        }

        parameters = list;
        return true;
    }

    private static readonly System.Buffers.SearchValues<char> KeywordChars =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-");

    private static CommandParseResult SyntaxError(CommandInfo info) =>
        CommandParseResult.Fail(ReplyCatalogue.SyntaxError.Format(info.Syntax));
}
