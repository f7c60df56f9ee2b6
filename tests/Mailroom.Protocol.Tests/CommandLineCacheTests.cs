using System.Reflection;
using System.Text;
using Mailroom.Protocol.Commands;

namespace Mailroom.Protocol.Tests;

/// <summary>
/// The per-session cache must be invisible: for every line, whatever came before it, the result is
/// the one the static parser gives; a repeated line comes back as the same objects; nothing that
/// may carry a secret is kept.
/// </summary>
public sealed class CommandLineCacheTests
{
    private static readonly string[] Seeds =
    [
        "MAIL FROM:<alice@example.org> SIZE=1024 BODY=8BITMIME",
        "MAIL FROM:<>",
        "mail from:<Alice@Example.org>",
        "MAIL FROM: <a@b.c> SMTPUTF8",
        "MAIL FROM:<δοκιμή@παράδειγμα.δοκιμή> SMTPUTF8",
        "MAIL FROM:<a@b.c> SIZE=",
        "RCPT TO:<bob@example.net>",
        "RCPT TO:<Postmaster>",
        "rcpt to:<bob@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.net",
        "RCPT TO:bob@example.net",
        "EHLO client.example.org",
        "HELO [192.0.2.1]",
        "EHLO  spaced ",
        "EHLO a b",
        "BDAT 1000",
        "BDAT 1000 LAST",
        "BDAT x",
        "READ INBOX",
        "DELE 3",
        "FLAG read on",
        "FLAG important off",
        "FLAG nothing",
        "AUTH PLAIN AGFsaWNlAHNlY3JldA==",
        "auth login c2VjcmV0",
        "LOGN alice secret",
        "Logn alice secret with spaces",
        "NOOP hello",
        "DATA",
        "RSET",
        "VRFY bob",
        "XCAESAR 3",
        "HELP MAIL",
        "QUIT",
        "MAIL",
        "MAIL ",
        "RCPT TO:<" + new string('a', 490) + "@b.c>",
    ];

    private static readonly byte[] HostileBytes = [0x00, (byte)'\r', (byte)'\n', (byte)'\t', 0xFF, 0xC3, 0x80, 0xE2, (byte)' ', (byte)'.', (byte)'<', (byte)'>', (byte)':', (byte)'@', (byte)'=', 0x7F];

    [Fact]
    public void Gives_what_the_parser_gives_for_random_and_hostile_lines_with_repeats()
    {
        var random = new Random(5321);
        var cache = default(CommandLineCache);
        var recent = new List<byte[]>();
        for (var i = 0; i < 20_000; i++)
        {
            var line = random.Next(10) < 4 && recent.Count > 0
                ? recent[random.Next(recent.Count)].ToArray()
                : Mutate(random, Encoding.UTF8.GetBytes(Seeds[random.Next(Seeds.Length)]));
            recent.Add(line);
            if (recent.Count > 8)
            {
                recent.RemoveAt(0);
            }

            AssertSameResult(CommandParser.Parse(line), cache.Parse(line), line);
        }
    }

    [Theory]
    [InlineData(511)]
    [InlineData(512)]
    [InlineData(513)]
    [InlineData(1000)]
    public void Lines_about_the_limit_give_what_the_parser_gives(int length)
    {
        // A long ORCPT value: the parser takes it, so the line is a command.
        const string Start = "RCPT TO:<bob@example.net> ORCPT=rfc822;";
        var line = Encoding.ASCII.GetBytes(Start + new string('r', length - Start.Length));
        Assert.Equal(length, line.Length);
        var cache = default(CommandLineCache);

        var first = cache.Parse(line);
        var second = cache.Parse(line);

        AssertSameResult(CommandParser.Parse(line), first, line);
        AssertSameResult(CommandParser.Parse(line), second, line);
        Assert.NotNull(first.Command);
        Assert.Equal(length <= CommandLineCache.MaxLineOctets, ReferenceEquals(first.Command, second.Command));
    }

    [Theory]
    [InlineData("RCPT TO:<a@example.net>", "RCPT TO:<b@example.net>")]
    [InlineData("RCPT TO:<a@example.net>", "RCPT TO:<A@example.net>")]
    [InlineData("RCPT TO:<ab@example.net>", "RCPT TO:<a@example.net>")]
    [InlineData("RCPT TO:<a@example.net>", "RCPT TO:<a@example.net> ")]
    [InlineData("MAIL FROM:<a@example.org> SIZE=1", "MAIL FROM:<a@example.org> SIZE=2")]
    [InlineData("MAIL FROM:<a@example.org>", "mail FROM:<a@example.org>")]
    [InlineData("EHLO one.example", "EHLO two.example")]
    [InlineData("EHLO one.example", "HELO one.example")]
    [InlineData("BDAT 100", "BDAT 100 LAST")]
    [InlineData("BDAT 100", "BDAT 200")]
    [InlineData("READ a", "READ b")]
    [InlineData("FLAG read on", "FLAG read of")]
    public void A_different_line_never_gets_the_last_one_s_result(string first, string second)
    {
        var a = Encoding.UTF8.GetBytes(first);
        var b = Encoding.UTF8.GetBytes(second);
        var cache = default(CommandLineCache);

        for (var round = 0; round < 3; round++)
        {
            AssertSameResult(CommandParser.Parse(a), cache.Parse(a), a);
            AssertSameResult(CommandParser.Parse(a), cache.Parse(a), a);
            AssertSameResult(CommandParser.Parse(b), cache.Parse(b), b);
            AssertSameResult(CommandParser.Parse(b), cache.Parse(b), b);
        }
    }

    [Fact]
    public void Recipients_in_turn_each_get_their_own_result()
    {
        var cache = default(CommandLineCache);
        var lines = Enumerable.Range(0, 7).Select(i => Encoding.ASCII.GetBytes($"RCPT TO:<r{i}@example.net>")).ToArray();
        var random = new Random(2821);

        for (var i = 0; i < 500; i++)
        {
            var line = lines[random.Next(random.Next(1, lines.Length + 1))];
            AssertSameResult(CommandParser.Parse(line), cache.Parse(line), line);
        }
    }

    [Fact]
    public void A_repeated_line_returns_the_same_command()
    {
        var line = "MAIL FROM:<alice@example.org> SIZE=1024"u8.ToArray();
        var cache = default(CommandLineCache);

        var first = cache.Parse(line).Command;
        var again = cache.Parse("MAIL FROM:<alice@example.org> SIZE=1024"u8).Command;

        Assert.NotNull(first);
        Assert.Same(first, again);
    }

    [Theory]
    [InlineData("AUTH PLAIN AGFsaWNlAHNlY3JldA==")]
    [InlineData("auth PLAIN AGFsaWNlAHNlY3JldA==")]
    [InlineData("AUTH LOGIN AGFsaWNlAHNlY3JldA==")]
    [InlineData("AUTH PLAIN AGFsaWNlAHNlY3JldA== extra")]
    [InlineData("LOGN alice AGFsaWNlAHNlY3JldA==")]
    [InlineData("logn alice AGFsaWNlAHNlY3JldA==")]
    [InlineData("LoGn alice AGFsaWNlAHNlY3JldA== with spaces")]
    public void Never_keeps_a_line_that_may_carry_a_secret(string text)
    {
        var line = Encoding.ASCII.GetBytes(text);
        var cache = default(CommandLineCache);

        // Something kept first, so the slots exist and are searched.
        _ = cache.Parse("MAIL FROM:<alice@example.org>"u8);
        var first = cache.Parse(line);
        var second = cache.Parse(line);

        AssertSameResult(CommandParser.Parse(line), first, line);
        Assert.False(first.Command is not null && ReferenceEquals(first.Command, second.Command), "An AUTH or LOGN command came back from the cache.");
        Assert.DoesNotContain(KeptLines(cache), kept => kept.AsSpan().IndexOf("AGFsaWNlAHNlY3JldA=="u8) >= 0);
    }

    [Fact]
    public void An_idle_cache_holds_nothing()
    {
        var cache = default(CommandLineCache);

        _ = cache.Parse("NOOP"u8);
        _ = cache.Parse("AUTH PLAIN AGFsaWNlAHNlY3JldA=="u8);
        _ = cache.Parse("DATA"u8);

        Assert.Null(typeof(CommandLineCache).GetField("_slots", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(cache));
    }

    /// <summary>
    /// Equal as the static parser's result, field by field: MAIL and RCPT keep their parameters in a
    /// list, which a record compares by reference.
    /// </summary>
    internal static void AssertSameResult(CommandParseResult expected, CommandParseResult actual, byte[] line)
    {
        var shown = Convert.ToHexString(line);
        Assert.True(expected.Fatal == actual.Fatal, shown);
        Assert.True(expected.Error?.ToString() == actual.Error?.ToString(), shown);
        switch (expected.Command, actual.Command)
        {
            case (MailCommand e, MailCommand a):
                Assert.Equal(e.Parameters, a.Parameters);
                Assert.True(e with { Parameters = NoParameters } == a with { Parameters = NoParameters }, shown);
                break;
            case (RcptCommand e, RcptCommand a):
                Assert.Equal(e.Parameters, a.Parameters);
                Assert.True(e with { Parameters = NoParameters } == a with { Parameters = NoParameters }, shown);
                break;
            default:
                Assert.True(Equals(expected.Command, actual.Command), shown);
                break;
        }
    }

    private static readonly EsmtpParameter[] NoParameters = [];

    /// <summary>A seed line changed in one of the ways a hostile or broken client would.</summary>
    private static byte[] Mutate(Random random, byte[] line)
    {
        var bytes = line.ToList();
        switch (random.Next(9))
        {
            case 0:
                break;
            case 1 when bytes.Count > 0:
                // Case change of one letter: a different line to the cache, often the same command.
                var at = random.Next(bytes.Count);
                bytes[at] = char.IsAsciiLetter((char)bytes[at]) ? (byte)(bytes[at] ^ 0x20) : bytes[at];
                break;
            case 2 when bytes.Count > 0:
                bytes[random.Next(bytes.Count)] = random.Next(2) == 0 ? HostileBytes[random.Next(HostileBytes.Length)] : (byte)random.Next(256);
                break;
            case 3:
                bytes.Insert(random.Next(bytes.Count + 1), HostileBytes[random.Next(HostileBytes.Length)]);
                break;
            case 4 when bytes.Count > 0:
                bytes.RemoveAt(random.Next(bytes.Count));
                break;
            case 5:
                bytes = bytes.Take(random.Next(bytes.Count + 1)).ToList();
                break;
            case 6:
                // Over-long: past the 512 octets a command line may have, or right on them.
                bytes.AddRange(Enumerable.Repeat((byte)'x', Math.Max(0, random.Next(505, 530) - bytes.Count)));
                break;
            case 7:
                // Invalid UTF-8: a lone continuation octet, a truncated sequence, an overlong form.
                byte[][] invalid = [[0x80], [0xC3], [0xE2, 0x82], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80]];
                bytes.InsertRange(random.Next(bytes.Count + 1), invalid[random.Next(invalid.Length)]);
                break;
            default:
                bytes.AddRange(Encoding.UTF8.GetBytes(random.Next(2) == 0 ? " SIZE=" + random.Next(100) : " x"));
                break;
        }

        return [.. bytes];
    }

    /// <summary>Every line the cache holds on to, read from its slots.</summary>
    private static List<byte[]> KeptLines(CommandLineCache cache)
    {
        var slots = (Array?)typeof(CommandLineCache).GetField("_slots", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(cache);
        var kept = new List<byte[]>();
        foreach (var slot in slots ?? Array.Empty<object>())
        {
            if (slot.GetType().GetField("Line")!.GetValue(slot) is byte[] line)
            {
                kept.Add(line);
            }
        }

        Assert.NotEmpty(kept);
        return kept;
    }
}
