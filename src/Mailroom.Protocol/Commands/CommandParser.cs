using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
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

        // The line is checked, not decoded: the verb is looked up from a stack copy and the
        // commands without arguments need no string at all, so a steady stream of them allocates
        // nothing (CommandParserAllocationTests). The space is ASCII, so splitting the bytes at
        // it splits the text at the same place, and both halves stay valid UTF-8.
        if (!Utf8.IsValid(line))
        {
            return CommandParseResult.Fail(ReplyCatalogue.InvalidCharacters);
        }

        var space = line.IndexOf((byte)' ');
        var name = space < 0 ? line : line[..space];
        var argBytes = space < 0 ? [] : line[(space + 1)..];
        if (!TryGetVerb(name, out var info))
        {
            return CommandParseResult.Fail(ReplyCatalogue.CommandUnrecognized);
        }

        switch (info.Verb)
        {
            case SmtpVerb.Data or SmtpVerb.Rset or SmtpVerb.Quit or SmtpVerb.Starttls or
                SmtpVerb.Next or SmtpVerb.Prev or SmtpVerb.List or SmtpVerb.Rtrn:
                return argBytes.IsEmpty ? CommandParseResult.Ok(SimpleCommand.Of(info.Verb)) : SyntaxError(info);

            // RFC 5321 4.1.1.9: "NOOP [ SP String ]"; the string is ignored.
            case SmtpVerb.Noop:
                return CommandParseResult.Ok(SimpleCommand.Of(SmtpVerb.Noop));

            // The path is the part of the line the handler keeps; only it is decoded.
            case SmtpVerb.Mail:
                return ParseMail(info, argBytes);
            case SmtpVerb.Rcpt:
                return ParseRcpt(info, argBytes);
        }

        // Every other verb keeps its argument as a string (the client's name, a mailbox name).
        var args = StrictUtf8.GetString(argBytes);
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
            SmtpVerb.Flag => ParseFlag(info, args),
            SmtpVerb.Xcaesar => byte.TryParse(args, NumberStyles.None, CultureInfo.InvariantCulture, out var shift) && shift > 0
                ? CommandParseResult.Ok(new CaesarCommand(shift))
                : SyntaxError(info),
            SmtpVerb.Bdat => ParseBdat(info, args),
            SmtpVerb.Help => CommandParseResult.Ok(new ArgumentCommand(SmtpVerb.Help, args.Trim())),
            SmtpVerb.Vrfy or SmtpVerb.Expn => args.Trim().Length == 0
                ? SyntaxError(info)
                : CommandParseResult.Ok(new ArgumentCommand(info.Verb, args.Trim())),
            _ => CommandParseResult.Fail(ReplyCatalogue.CommandUnrecognized),
        };
    }

    /// <summary>
    /// Longer than any verb can be: valid UTF-8 takes at most three octets per UTF-16 unit, so 64
    /// octets hold at least 21 units, and no verb has more than 8.
    /// </summary>
    private const int MaxVerbOctets = 64;

    /// <summary>Looks the verb up without a string: decoded onto the stack, matched without regard to case.</summary>
    private static bool TryGetVerb(ReadOnlySpan<byte> name, out CommandInfo info)
    {
        if (name.Length > MaxVerbOctets)
        {
            info = null!;
            return false;
        }

        Span<char> chars = stackalloc char[MaxVerbOctets];
        var length = StrictUtf8.GetChars(name, chars);
        return CommandTable.TryGet(chars[..length], out info);
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
    /// <remarks>
    /// Allocates only what the command carries: the sender's local part and domain (the
    /// transaction keeps them), the raw path (the audit log's), the parameters, and the command.
    /// </remarks>
    private static CommandParseResult ParseMail(CommandInfo info, ReadOnlySpan<byte> args) =>
        TryStripPrefix(args, "FROM:"u8, out var rest) ? Decoded(info, rest, ParseMailPath) : SyntaxError(info);

    private static CommandParseResult ParseMailPath(CommandInfo info, ReadOnlySpan<char> rest)
    {
        var end = PathGrammar.TryParseReversePath(rest, 0, allowUtf8: true, out var sender);
        if (end < 0)
        {
            return CommandParseResult.Fail(ReplyCatalogue.BadSenderSyntax);
        }

        return TryParseParameters(rest, end, out var parameters)
            ? CommandParseResult.Ok(new MailCommand(sender, rest[..end].ToString(), parameters))
            : SyntaxError(info);
    }

    /// <summary><c>rcpt = "RCPT TO:" ( "&lt;Postmaster@" Domain "&gt;" / "&lt;Postmaster&gt;" / Forward-path ) [SP Rcpt-parameters] CRLF</c>.</summary>
    /// <remarks>Allocates only what the command carries, as MAIL does.</remarks>
    private static CommandParseResult ParseRcpt(CommandInfo info, ReadOnlySpan<byte> args) =>
        TryStripPrefix(args, "TO:"u8, out var rest) ? Decoded(info, rest, ParseRcptPath) : SyntaxError(info);

    private static CommandParseResult ParseRcptPath(CommandInfo info, ReadOnlySpan<char> rest)
    {
        var end = PathGrammar.TryParseForwardPath(rest, 0, allowUtf8: true, out var recipient);
        if (end < 0 || recipient is null)
        {
            return CommandParseResult.Fail(ReplyCatalogue.BadRecipientSyntax);
        }

        return TryParseParameters(rest, end, out var parameters)
            ? CommandParseResult.Ok(new RcptCommand(recipient, rest[..end].ToString(), parameters))
            : SyntaxError(info);
    }

    private delegate CommandParseResult PathParser(CommandInfo info, ReadOnlySpan<char> rest);

    /// <summary>
    /// Decodes the rest of a MAIL or RCPT line onto the stack (into a pooled array past a command
    /// line's 512 octets), so the only strings made are the ones the command keeps. UTF-8 never
    /// takes fewer octets than UTF-16 units, so the octet count bounds the characters.
    /// </summary>
    private static CommandParseResult Decoded(CommandInfo info, ReadOnlySpan<byte> octets, PathParser parse)
    {
        const int StackChars = 512;
        char[]? rented = null;
        var chars = octets.Length <= StackChars ? stackalloc char[StackChars] : (rented = ArrayPool<char>.Shared.Rent(octets.Length));
        try
        {
            return parse(info, chars[..StrictUtf8.GetChars(octets, chars)]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
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
    /// Takes "FROM:" or "TO:" case-insensitively. A space after the colon
    /// breaks RFC 5321 but is common among old clients, and accepting it harms nothing, so it is
    /// skipped. Comparing octets is comparing text here: no character outside ASCII equals an
    /// ASCII one without regard to case.
    /// </summary>
    private static bool TryStripPrefix(ReadOnlySpan<byte> args, ReadOnlySpan<byte> prefix, out ReadOnlySpan<byte> rest)
    {
        rest = [];
        if (args.Length < prefix.Length || !Ascii.EqualsIgnoreCase(args[..prefix.Length], prefix))
        {
            return false;
        }

        rest = args[prefix.Length..].TrimStart((byte)' ');
        return true;
    }

    /// <summary>
    /// <c>Mail-parameters = esmtp-param *(SP esmtp-param)</c>;
    /// <c>esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")</c>;
    /// <c>esmtp-value = 1*(%d33-60 / %d62-126)</c>, with UTF-8 allowed by RFC 6531 3.3.
    /// Trailing spaces are tolerated.
    /// </summary>
    public static bool TryParseParameters(ReadOnlySpan<char> text, int start, out IReadOnlyList<EsmtpParameter> parameters)
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
        foreach (var range in rest.Split(' '))
        {
            var token = rest[range];
            if (token.IsEmpty)
            {
                continue;
            }

            var eq = token.IndexOf('=');
            var keyword = eq < 0 ? token : token[..eq];
            var value = eq < 0 ? [] : token[(eq + 1)..];
            if (keyword.Length == 0 || !char.IsAsciiLetterOrDigit(keyword[0]) ||
                keyword.ContainsAnyExcept(KeywordChars) ||
                (eq >= 0 && (value.Length == 0 || value.IndexOfAnyInRange('\0', ' ') >= 0 || value.IndexOfAny('=', '\x7f') >= 0)))
            {
                return false;
            }

            list.Add(new EsmtpParameter(Known(keyword, KnownKeywords), eq < 0 ? null : Known(value, KnownValues)));
        }

        parameters = list;
        return true;
    }

    /// <summary>Keywords and values clients send all the time, spelled as they are, so they need no new string.</summary>
    private static readonly string[] KnownKeywords = ["SIZE", "BODY", "SMTPUTF8", "RET", "ENVID", "NOTIFY", "ORCPT", "AUTH"];

    private static readonly string[] KnownValues = ["7BIT", "8BITMIME"];

    private static string Known(ReadOnlySpan<char> text, string[] known)
    {
        foreach (var candidate in known)
        {
            if (text.SequenceEqual(candidate))
            {
                return candidate;
            }
        }

        return text.ToString();
    }

    private static readonly System.Buffers.SearchValues<char> KeywordChars =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-");

    private static CommandParseResult SyntaxError(CommandInfo info) =>
        CommandParseResult.Fail(ReplyCatalogue.SyntaxError.Format(info.Syntax));
}
