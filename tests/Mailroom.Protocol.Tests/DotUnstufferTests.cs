using System.Text;
using Mailroom.Protocol.Data;

namespace Mailroom.Protocol.Tests;

public class DotUnstufferTests
{
    /// <summary>Runs the un-stuffer over the input cut into pieces at the given points.</summary>
    private static (string Content, int Consumed, bool Done) Run(string input, params int[] cuts)
    {
        var bytes = Encoding.ASCII.GetBytes(input);
        var unstuffer = new DotUnstuffer();
        var output = new List<byte>();
        var points = cuts.Where(c => c > 0 && c < bytes.Length).Order().Distinct().Append(bytes.Length).ToArray();
        var start = 0;
        foreach (var end in points)
        {
            var piece = bytes[start..end];
            var scratch = new byte[piece.Length + 1];
            var done = unstuffer.Feed(piece, scratch, out var consumed, out var written);
            output.AddRange(scratch[..written]);
            if (done)
            {
                return (Encoding.ASCII.GetString(output.ToArray()), start + consumed, true);
            }

            start = end;
        }

        return (Encoding.ASCII.GetString(output.ToArray()), bytes.Length, false);
    }

    private const string Message = "Subject: hi\r\n\r\n..leading dot\r\n.\r\nnext\r\n..\r\nend\r\n.\r\nMAIL FROM:<x@y.z>\r\n";

    public static TheoryData<int> Splits() => [.. Enumerable.Range(0, Message.Length + 1)];

    [Theory]
    [MemberData(nameof(Splits))]
    public void Every_split_gives_the_same_content_and_end(int split)
    {
        // The first ".\r\n" ends the data; everything after it is the next command.
        var (content, consumed, done) = Run(Message, split);
        Assert.True(done);
        Assert.Equal("Subject: hi\r\n\r\n.leading dot\r\n", content);
        Assert.Equal(Message.IndexOf("\r\n.\r\n", StringComparison.Ordinal) + 5, consumed);
    }

    [Fact]
    public void Byte_at_a_time_is_the_same()
    {
        var input = "a\r\n..b\r\n.c\r\n..\r\n.\r\n";
        var (content, consumed, done) = Run(input, [.. Enumerable.Range(1, input.Length)]);
        Assert.True(done);
        Assert.Equal("a\r\n.b\r\nc\r\n.\r\n", content);
        Assert.Equal(input.Length, consumed);
    }

    [Fact]
    public void An_empty_message_is_just_the_terminator()
    {
        var (content, consumed, done) = Run(".\r\n");
        Assert.True(done);
        Assert.Equal(string.Empty, content);
        Assert.Equal(3, consumed);
    }

    // The SMTP smuggling variants (2023): none of these is the end of the data.
    [Theory]
    [InlineData("body\n.\nMAIL FROM:<evil@x>\r\n")]
    [InlineData("body\n.\r\nMAIL FROM:<evil@x>\r\n")]
    [InlineData("body\r.\rMAIL FROM:<evil@x>\r\n")]
    [InlineData("body\r\n.\nMAIL FROM:<evil@x>\r\n")]
    [InlineData("body\r\n.\rMAIL FROM:<evil@x>\r\n")]
    [InlineData("body\r.\r\nMAIL FROM:<evil@x>\r\n")]
    public void Only_crlf_dot_crlf_ends_the_data(string input)
    {
        for (var split = 0; split <= input.Length; split++)
        {
            var (content, _, done) = Run(input, split);
            Assert.False(done);
            Assert.Contains("MAIL FROM:<evil@x>", content, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Stuffing_round_trips()
    {
        var random = new Random(7);
        for (var i = 0; i < 500; i++)
        {
            var lines = Enumerable.Range(0, random.Next(0, 8))
                .Select(_ => new string('.', random.Next(0, 3)) + new string('x', random.Next(0, 4)))
                .ToArray();
            var original = string.Concat(lines.Select(l => l + "\r\n"));
            var stuffed = string.Concat(lines.Select(l => (l.StartsWith('.') ? "." + l : l) + "\r\n")) + ".\r\n";
            var (content, consumed, done) = Run(stuffed, random.Next(0, stuffed.Length + 1));
            Assert.True(done);
            Assert.Equal(original, content);
            Assert.Equal(stuffed.Length, consumed);
        }
    }
}

public class DotStufferTests
{
    private static string Stuff(string content, int split)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(content);
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        var stuffer = new DotStuffer();
        stuffer.Write(bytes.AsSpan(0, split), output);
        stuffer.Write(bytes.AsSpan(split), output);
        stuffer.Complete(output);
        return System.Text.Encoding.ASCII.GetString(output.WrittenSpan);
    }

    [Theory]
    [InlineData("a\r\n.b\r\n..\r\n.\r\n", "a\r\n..b\r\n...\r\n..\r\n.\r\n")]
    [InlineData(".first\r\n", "..first\r\n.\r\n")]
    [InlineData("no newline", "no newline\r\n.\r\n")]
    [InlineData("", ".\r\n")]
    [InlineData("x\n.y\r\n", "x\n.y\r\n.\r\n")]
    public void Stuffs_at_every_split(string content, string expected)
    {
        for (var split = 0; split <= content.Length; split++)
        {
            Assert.Equal(expected, Stuff(content, split));
        }
    }

    [Fact]
    public void Stuffing_then_unstuffing_is_the_identity()
    {
        var random = new Random(11);
        for (var i = 0; i < 1000; i++)
        {
            var content = string.Concat(Enumerable.Range(0, random.Next(0, 10)).Select(_ => "..x\r\n"[random.Next(5)..][..1])) + "\r\n";
            content = content.Replace("\r\r", "\r", StringComparison.Ordinal);
            var stuffed = System.Text.Encoding.ASCII.GetBytes(Stuff(content, random.Next(0, content.Length + 1)));
            var unstuffer = new DotUnstuffer();
            var output = new byte[stuffed.Length + 1];
            Assert.True(unstuffer.Feed(stuffed, output, out var consumed, out var written));
            Assert.Equal(stuffed.Length, consumed);
            var back = System.Text.Encoding.ASCII.GetString(output, 0, written);
            Assert.Equal(content.EndsWith("\r\n", StringComparison.Ordinal) ? content : content + "\r\n", back);
        }
    }
}
