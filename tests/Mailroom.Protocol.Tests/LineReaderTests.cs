using System.Buffers;
using System.Text;
using Mailroom.Protocol.Commands;

namespace Mailroom.Protocol.Tests;

public class LineReaderTests
{
    private const string Transcript = "EHLO client.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n";

    /// <summary>Feeds the input split at every point and collects what comes out; the result must not depend on the split.</summary>
    private static List<string> ReadAll(byte[] input, int split, int max = 512)
    {
        var reader = new LineReader();
        var lines = new List<string>();
        var pending = Array.Empty<byte>();
        foreach (var part in new[] { input[..split], input[split..] })
        {
            pending = [.. pending, .. part];
            while (true)
            {
                var buffer = new ReadOnlySequence<byte>(pending);
                var status = reader.TryRead(ref buffer, max, out var line);
                if (status == LineStatus.Incomplete)
                {
                    // "Incomplete" consumes nothing.
                    Assert.Equal(pending.Length, buffer.Length);
                    break;
                }

                pending = buffer.ToArray();
                lines.Add(status switch
                {
                    LineStatus.Line => Encoding.ASCII.GetString(line.ToArray()),
                    LineStatus.BareLineFeed => "BARE:" + Encoding.ASCII.GetString(line.ToArray()),
                    LineStatus.TooLong => "TOOLONG",
                    _ => "DISCARDING",
                });
                if (status == LineStatus.Discarding)
                {
                    break;
                }
            }
        }

        return lines.Where(l => l != "DISCARDING").ToList();
    }

    public static TheoryData<int> Splits() => [.. Enumerable.Range(0, Transcript.Length + 1)];

    [Theory]
    [MemberData(nameof(Splits))]
    public void Every_prefix_yields_the_same_lines(int split)
    {
        var lines = ReadAll(Encoding.ASCII.GetBytes(Transcript), split);
        Assert.Equal(["EHLO client.example", "MAIL FROM:<a@b.example>", "RCPT TO:<c@d.example>", "DATA"], lines);
    }

    [Fact]
    public void A_bare_lf_is_reported_as_such()
    {
        Assert.Equal(["BARE:NOOP", "QUIT"], ReadAll(Encoding.ASCII.GetBytes("NOOP\nQUIT\r\n"), 3));
    }

    [Fact]
    public void A_line_of_exactly_the_limit_is_a_line()
    {
        var line = "NOOP " + new string('x', 512 - 7);
        Assert.Equal([line], ReadAll(Encoding.ASCII.GetBytes(line + "\r\n"), 100));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(511)]
    [InlineData(512)]
    [InlineData(513)]
    [InlineData(700)]
    [InlineData(1030)]
    public void A_line_over_the_limit_is_skipped_and_the_next_one_is_read(int split)
    {
        var input = Encoding.ASCII.GetBytes("NOOP " + new string('x', 1000) + "\r\nQUIT\r\n");
        Assert.Equal(["TOOLONG", "QUIT"], ReadAll(input, Math.Min(split, input.Length)));
    }

    [Fact]
    public void An_endless_line_never_holds_more_than_one_read()
    {
        var reader = new LineReader();
        for (var i = 0; i < 100; i++)
        {
            var buffer = new ReadOnlySequence<byte>(new byte[4096]);
            var status = reader.TryRead(ref buffer, 512, out _);
            Assert.Equal(LineStatus.Discarding, status);
            Assert.Equal(0, buffer.Length);
        }
    }
}
