using System.Text;
using Mailroom.Core.Audit;

namespace Mailroom.Core.Tests.Audit;

/// <summary>
/// Properties of whole log files: damage is reported (a problem on the record, a note or a break
/// from the verifier), never thrown; and what the real writer writes reads back as it was given.
/// </summary>
public sealed class AuditFilePropertyTests : AuditTestBase
{
    private const int Seed = 1_105;

    /// <summary>Characters an event's text may hold: anything a client can send, and lone surrogates, which become U+FFFD (AuditEntryWriter.Clean).</summary>
    private static readonly string[] TextPieces =
        ["a", " ", "\"", "\\", "\n", "\r", "\0", "\t", "\u001b", "\u007f", "\u2028", "é", "日本", "😀", "<redacted>", "\uD800", "\uDFFF", "\uFFFD", "{\"mac\":\"", ",\"mac\":\""];

    [Fact]
    public async Task Garbage_torn_lines_and_nul_padding_are_reported_not_thrown()
    {
        var random = new Random(Seed);
        for (var run = 0; run < 60; run++)
        {
            if (Directory.Exists(Folder))
            {
                Directory.Delete(Folder, recursive: true);
            }

            await WriteRunAsync(random.Next(1, 6));
            var path = LogFiles()[0];
            var lines = File.ReadAllBytes(path).Split();
            var damage = random.Next(4);
            var at = random.Next(lines.Count + 1);
            byte[] garbage = damage switch
            {
                0 => [.. RandomBytes(random, 300).Where(b => b != (byte)'\n'), (byte)'\n'],
                1 => new byte[random.Next(1, 4096)], // NUL padding, as a crash can leave on some file systems
                2 => [.. lines[random.Next(lines.Count)][..^random.Next(2, 40)]], // torn: no '\n'
                _ => [.. lines[random.Next(lines.Count)].Select(b => random.Next(40) == 0 ? (byte)(b ^ 0x80) : b)],
            };
            if (damage is 1 or 2)
            {
                at = lines.Count; // only the end of a file is left torn or padded
            }

            lines.Insert(at, garbage);
            await File.WriteAllBytesAsync(path, [.. lines.SelectMany(l => l)], TestContext.Current.CancellationToken);
            var what = $"seed {Seed}, run {run}, damage {damage} at line {at + 1}";

            var read = Record(what, () => ReadAll(Folder));
            var verification = Record(what, Verify);
            Assert.Single(verification.Streams);
            var stream = verification.Streams[0];
            if (damage is 0 or 3 && !garbage.SequenceEqual(lines[at == 0 ? 1 : at - 1]))
            {
                // A line that is not its chain's next entry breaks the chain (or is a note: a torn last line).
                Assert.True(stream.Break is not null || stream.Notes.Count > 0 || read.Any(r => r.Problem is not null), what);
            }
            else if (damage == 2)
            {
                Assert.True(stream.Break is not null || stream.Notes.Count > 0, what);
            }
        }
    }

    /// <summary>Every event the real writer takes, with any text at all, reads back equal and its chain verifies.</summary>
    [Fact]
    public async Task Entries_with_any_text_read_back_equal_and_verify()
    {
        var random = new Random(Seed + 1);
        for (var run = 0; run < 40; run++)
        {
            if (Directory.Exists(Folder))
            {
                Directory.Delete(Folder, recursive: true);
            }

            var events = Enumerable.Range(0, 50).Select(_ => RandomEvent(random)).ToList();
            await using (var log = await OpenAsync())
            {
                foreach (var e in events)
                {
                    log.Record(e);
                }
            }

            var what = $"seed {Seed + 1}, run {run}";
            var read = ReadAll(Folder).Where(r => r.Event?.Kind is not (AuditKinds.LogStart or AuditKinds.LogStop)).ToList();
            Assert.Equal(events.Count, read.Count);
            for (var i = 0; i < events.Count; i++)
            {
                Assert.Null(read[i].Problem);
                AssertSame(events[i], read[i].Event!, $"{what}, event {i}");
            }

            Assert.True(Verify().Intact, what);
        }
    }

    /// <summary>Found by <see cref="AuditParserPropertyTests"/> (seed 2026, case 1): a flipped bit inside a string threw InvalidOperationException out of the reader and the verifier.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_bit_flip_to_invalid_utf8_or_a_lone_surrogate_escape_is_a_malformed_line(bool surrogate)
    {
        await WriteRunAsync(3);
        var path = LogFiles()[0];
        var lines = File.ReadAllBytes(path).Split();
        var line = lines[1];
        var user = line.AsSpan().IndexOf("user-1"u8);
        lines[1] = surrogate
            ? [.. line[..user], .. "\\ud800"u8, .. line[(user + 6)..]]
            : [.. line[..user], 0xB0, .. line[(user + 1)..]];
        await File.WriteAllBytesAsync(path, [.. lines.SelectMany(l => l)], TestContext.Current.CancellationToken);

        Assert.Contains(ReadAll(Folder), r => r.Problem is not null && r.Line == 2);
        var stream = Assert.Single(Verify().Streams);
        Assert.Equal(AuditBreakKind.Malformed, stream.Break!.Kind);
    }

    private static T Record<T>(string what, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            Assert.Fail($"{what} threw {ex}");
            throw;
        }
    }

    private static void AssertSame(AuditEvent expected, AuditEvent actual, string what)
    {
        Assert.True(Clean(expected.Kind) == actual.Kind, what + " kind");
        Assert.Equal(expected.Outcome, actual.Outcome);
        string?[] want = [expected.Session, expected.Client, expected.Listener, expected.User, expected.Command, expected.Arguments, expected.Reply, expected.Mailbox, expected.MessageId, expected.Detail];
        string?[] got = [actual.Session, actual.Client, actual.Listener, actual.User, actual.Command, actual.Arguments, actual.Reply, actual.Mailbox, actual.MessageId, actual.Detail];
        Assert.True(want.Select(Clean).SequenceEqual(got), what);
        Assert.Equal(expected.Size, actual.Size);
        Assert.Equal(expected.Recipients?.Select(r => Clean(r)), actual.Recipients);
    }

    /// <summary>What the writer keeps of a string: lone surrogates become U+FFFD, by design.</summary>
    private static string? Clean(string? s) => s is null ? null : Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s));

    private static AuditEvent RandomEvent(Random random) => new()
    {
        Kind = Text(random) ?? "",
        Outcome = (AuditOutcome)random.Next(3),
        Session = Text(random),
        Client = Text(random),
        Listener = Text(random),
        User = Text(random),
        Command = Text(random),
        Arguments = Text(random),
        Reply = Text(random),
        Mailbox = Text(random),
        MessageId = Text(random),
        Detail = Text(random),
        Size = random.Next(3) == 0 ? null : random.NextInt64(long.MinValue, long.MaxValue),
        Recipients = random.Next(3) == 0 ? null : [.. Enumerable.Range(0, random.Next(4)).Select(_ => Text(random) ?? "")],
    };

    private static string? Text(Random random)
    {
        if (random.Next(5) == 0)
        {
            return null;
        }

        var sb = new StringBuilder();
        for (var i = random.Next(12); i > 0; i--)
        {
            sb.Append(random.Next(3) == 0 ? (char)random.Next(0x10000) : TextPieces[random.Next(TextPieces.Length)]);
        }

        return sb.ToString();
    }

    private static byte[] RandomBytes(Random random, int max)
    {
        var bytes = new byte[random.Next(1, max)];
        random.NextBytes(bytes);
        return bytes;
    }
}

internal static class LineSplit
{
    /// <summary>The file's lines, each with its '\n'.</summary>
    public static List<byte[]> Split(this byte[] file)
    {
        var lines = new List<byte[]>();
        var start = 0;
        for (var i = 0; i < file.Length; i++)
        {
            if (file[i] == (byte)'\n')
            {
                lines.Add(file[start..(i + 1)]);
                start = i + 1;
            }
        }

        if (start < file.Length)
        {
            lines.Add(file[start..]);
        }

        return lines;
    }
}
