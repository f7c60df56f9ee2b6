using System.Text;
using System.Text.RegularExpressions;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;

namespace Mailroom.Protocol.Tests.Properties;

/// <summary>
/// <see cref="CommandParser.Parse(ReadOnlySpan{byte})"/> and <see cref="CommandLineCache"/> over
/// random and hostile command lines: every verb of the table with random arguments, control
/// characters, NUL, invalid UTF-8, over-long lines, huge BDAT sizes, odd spacing and case.
/// </summary>
public sealed class CommandParserProperties
{
    private const int Cases = 4000;

    /// <summary>Argument pieces, weighted toward what each verb's grammar cares about.</summary>
    private static readonly byte[][] Pieces =
    [
        .. new[]
        {
            " ", " ", "  ", "\t", "FROM:", "from:", "TO:", "<", ">", "<>", "<a@b.example>", "<\"q u\"@[1.2.3.4]>", "<@r.example:x@y.example>",
            "<Postmaster>", "@", ".", ":", "=", "SIZE=", "BODY=8BITMIME", "SMTPUTF8", "LAST", "last", "important", "read", "on", "off",
            "PLAIN", "=", "INBOX", "0", "1", "255", "256", "9223372036854775807", "9223372036854775808", "999999999999999999",
            "99999999999999999999999", "-1", "+1", "x", "é", "日本", "😀", "[IPv6:::1]", "\"", "\\",
        }.Select(Encoding.UTF8.GetBytes),
        [0], [(byte)'\r'], [(byte)'\n'], [(byte)'\r', (byte)'\n'], [0x7f], [0x1b],
        [0xff], [0x80], [0xc0, 0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80],
    ];

    private static readonly string[] Verbs = [.. CommandTable.All.Select(r => r.Name), "MAIL", "RCPT", "BDAT", "BDAT", "BDATX", "XYZZY", "", "ST ARTTLS"];

    /// <summary>Every template of the catalogue as a pattern its formatted text must match.</summary>
    private static readonly (ReplyTemplate Template, Regex Text)[] Catalogue =
    [
        .. ReplyCatalogue.All.Select(e => (e.Template, new Regex("^" + Regex.Replace(Regex.Escape(e.Template.Text), @"\\\{\d+}", ".*") + "$", RegexOptions.Singleline))),
    ];

    internal static byte[] RandomLine(Random random)
    {
        var line = new List<byte>();
        var verb = random.Pick(Verbs);
        verb = random.Next(4) switch
        {
            0 => verb,
            1 => random.RandomCase(verb),
            2 when verb.Length > 0 => verb.Insert(random.Next(verb.Length), random.Pick(["ı", "ſ", "\0", " ", "K", "i", "s"])),
            _ => verb.ToLowerInvariant(),
        };
        line.AddRange(Encoding.UTF8.GetBytes(verb));
        if (random.Next(6) > 0)
        {
            line.AddRange(random.Next(5) == 0 ? Encoding.ASCII.GetBytes(random.Pick(["", "  ", "\t", " \t"])) : [(byte)' ']);
            var count = random.Next(8);
            for (var i = 0; i < count; i++)
            {
                line.AddRange(random.Next(10) == 0 ? random.Bytes(random.Next(1, 6)) : random.Pick(Pieces));
            }
        }

        // Over-long lines: past the 512 octets of RFC 5321 4.5.3.1.4, and past the parser's stack buffer.
        if (random.Next(40) == 0)
        {
            line.AddRange(Enumerable.Repeat((byte)random.Pick("a<@.é"u8.ToArray()), random.Next(500, 5000)));
        }

        return [.. line];
    }

    [Fact]
    public void Random_lines_never_throw_and_give_exactly_one_of_a_command_or_a_catalogued_error()
    {
        Property.ForAll(5321, Cases, random =>
        {
            var line = RandomLine(random);
            var result = CommandParser.Parse(line);
            AssertWellFormed(line, result);
        });
    }

    [Fact]
    public void A_line_parses_the_same_as_a_slice_of_a_larger_buffer_with_a_poisoned_tail()
    {
        Property.ForAll(4141, Cases, random =>
        {
            var line = RandomLine(random);
            var tail = random.Next(3) switch
            {
                0 => "\r\nRSET\r\n"u8.ToArray(),
                1 => " LAST\r\nMAIL FROM:<x@y>\r\n"u8.ToArray(),
                _ => random.Bytes(random.Next(1, 64)),
            };
            var head = random.Bytes(random.Next(4));
            var buffer = head.Concat(line).Concat(tail).ToArray();
            var exact = CommandParser.Parse(line.ToArray());
            var sliced = CommandParser.Parse(buffer.AsSpan(head.Length, line.Length));
            Assert.Equal(Describe(exact), Describe(sliced));
        });
    }

    [Fact]
    public void The_cache_gives_what_the_parser_gives_for_every_line_of_a_session()
    {
        Property.ForAll(3030, Cases / 20, random =>
        {
            var cache = default(CommandLineCache);
            var seen = new List<byte[]>();
            for (var i = 0; i < 20; i++)
            {
                // Lines come back, as MAIL, RCPT and EHLO do in every transaction; some differ only in case.
                var line = seen.Count > 0 && random.Next(2) == 0 ? random.Pick(seen) : RandomLine(random);
                if (random.Next(8) == 0 && line.Length > 0)
                {
                    line = [.. line];
                    line[random.Next(line.Length)] ^= 0x20;
                }

                seen.Add(line);
                var buffer = line.Concat("\r\nRSET\r\n"u8.ToArray()).ToArray();
                var cached = cache.Parse(buffer.AsSpan(0, line.Length));
                AssertWellFormed(line, cached);
                Assert.Equal(Describe(CommandParser.Parse(line)), Describe(cached));
            }
        });
    }

    [Fact]
    public void Bdat_with_any_size_either_parses_to_that_size_or_is_fatal()
    {
        Property.ForAll(3030_2, Cases, random =>
        {
            var digits = random.Next(4) switch
            {
                0 => random.NextInt64(0, long.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture),
                1 => new string('9', random.Next(1, 30)),
                2 => new string('0', random.Next(0, 25)) + random.Next(1000).ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => random.Pick(["9223372036854775807", "9223372036854775808", "18446744073709551616", "-1", "+5", "1e3", "0x10", "１２", ""]),
            };
            var text = random.RandomCase("BDAT") + " " + digits + random.Pick(["", " LAST", " last", " LAST ", "  LAST", " MORE", " LAST LAST"]);
            var line = Encoding.UTF8.GetBytes(text);
            var result = CommandParser.Parse(line);
            AssertWellFormed(line, result);
            if (result.Command is BdatCommand bdat)
            {
                // RFC 3030 2: chunk-size = 1*DIGIT.
                Assert.Equal(System.Numerics.BigInteger.Parse(digits, System.Globalization.CultureInfo.InvariantCulture), new System.Numerics.BigInteger(bdat.ChunkSize));
            }
        });
    }

    [Fact]
    public void Whether_a_line_is_bdat_does_not_depend_on_how_its_bytes_are_split()
    {
        Property.ForAll(3031, Cases, random =>
        {
            var line = random.Next(2) == 0 ? RandomLine(random) : Encoding.UTF8.GetBytes(random.RandomCase("BDAT"[..random.Next(5)]) + random.Pick(["", " ", "\t", "X", " 1"]));
            var sequence = random.Segmented(line);
            Assert.Equal(CommandParser.IsBdatLine(line), CommandParser.IsBdatLine(in sequence));
        });
    }

    /// <summary>The invariants every parse result keeps, whatever the line.</summary>
    internal static void AssertWellFormed(ReadOnlySpan<byte> line, CommandParseResult result)
    {
        Assert.True((result.Command is null) != (result.Error is null), "exactly one of Command and Error");
        if (result.Error is { } error)
        {
            // RFC 3463 and STYLE.md: every refusal is a 4xx/5xx from the catalogue with an enhanced status code.
            Assert.InRange(error.Code, 400, 599);
            Assert.NotNull(error.Enhanced);
            Assert.Equal(error.Code / 100, error.Enhanced.Value.Class);
            var text = Assert.Single(error.Lines);
            Assert.Contains(Catalogue, c => c.Template.Code == error.Code && c.Template.Enhanced == error.Enhanced && c.Text.IsMatch(text));
            Assert.DoesNotContain(text, c => c < ' ');

            // RFC 3030 2: a chunk follows a BDAT line whatever the reply, so a BDAT line that
            // fails loses the framing: 421 and close.
            if (CommandParser.IsBdatLine(line))
            {
                Assert.True(result.Fatal, "a failed BDAT line is fatal");
                Assert.Equal(421, error.Code);
            }
        }
        else
        {
            Assert.False(result.Fatal);

            // The verb is the line's first word, matched without regard to ASCII case (RFC 5321 2.4):
            // nothing else, in no other script, names a command.
            var space = line.IndexOf((byte)' ');
            var verb = space < 0 ? line : line[..space];
            Assert.True(Ascii.EqualsIgnoreCase(verb, Encoding.ASCII.GetBytes(CommandTable.Get(result.Command!.Verb).Name)), $"verb '{Encoding.UTF8.GetString(verb)}' taken for {result.Command.Verb}");
        }
    }

    /// <summary>A result as text, so two results compare by value (parameter lists and replies are not records).</summary>
    internal static string Describe(CommandParseResult result) => result.Error is { } error
        ? $"error {error} fatal={result.Fatal}"
        : result.Command switch
        {
            MailCommand m => $"MAIL {m.Sender} {m.RawPath} {Params(m.Parameters)}",
            RcptCommand r => $"RCPT {r.Recipient} {r.RawPath} {Params(r.Parameters)}",
            AuthCommand a => $"AUTH {a.Mechanism} {a.InitialResponse}",
            LognCommand l => $"LOGN {l.User} {l.Password}",
            var c => c!.ToString(),
        };

    private static string Params(IReadOnlyList<EsmtpParameter> parameters) => string.Join(' ', parameters.Select(p => $"{p.Keyword}={p.Value}"));
}
