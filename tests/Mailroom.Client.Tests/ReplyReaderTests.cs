using System.IO.Pipelines;
using System.Text;

namespace Mailroom.Client.Tests;

/// <summary>The client's reply reading (RFC 5321 4.2) however the bytes arrive: whole, line by line, one at a time.</summary>
public class ReplyReaderTests
{
    private const string Ehlo = "250-mx.example.test greets client.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 CHUNKING\r\n";

    public enum Feed
    {
        Whole,
        LineByLine,
        ByteByByte,
    }

    /// <summary>Writes <paramref name="wire"/> into a pipe in the given pieces, each flushed on its own, while the reader waits.</summary>
    private static async Task WriteAsync(PipeWriter writer, string wire, Feed feed)
    {
        var bytes = Encoding.UTF8.GetBytes(wire);
        var pieces = feed switch
        {
            Feed.Whole => [bytes],
            Feed.LineByLine => wire.Split("\r\n").SkipLast(1).Select(l => Encoding.UTF8.GetBytes(l + "\r\n")).ToArray(),
            _ => bytes.Select(b => new[] { b }).ToArray(),
        };
        foreach (var piece in pieces)
        {
            await writer.WriteAsync(piece, TestContext.Current.CancellationToken);
        }
    }

    [Theory]
    [InlineData(Feed.Whole)]
    [InlineData(Feed.LineByLine)]
    [InlineData(Feed.ByteByByte)]
    public async Task A_multi_line_reply_then_a_single_line_one(Feed feed)
    {
        var pipe = new Pipe();
        var reader = new ReplyReader(pipe.Reader);
        var first = reader.ReadAsync(TestContext.Current.CancellationToken).AsTask();
        await WriteAsync(pipe.Writer, Ehlo + "250 2.1.0 Sender OK\r\n", feed);
        var ehlo = await first;
        Assert.Equal(250, ehlo.Code);
        Assert.Equal(["mx.example.test greets client.test", "PIPELINING", "SIZE 1000", "CHUNKING"], ehlo.Lines);
        var mail = await reader.ReadAsync(TestContext.Current.CancellationToken);
        Assert.Equal("2.1.0", mail.Enhanced.ToString());
        Assert.Equal("Sender OK", Assert.Single(mail.Lines));
    }

    [Theory]
    [InlineData(Feed.Whole)]
    [InlineData(Feed.ByteByByte)]
    public async Task Counted_octets_follow_a_reply_and_are_not_taken_for_replies(Feed feed)
    {
        const string content = "250 OK\r\n.\r\nbare\nlf";
        var pipe = new Pipe();
        var reader = new ReplyReader(pipe.Reader);
        var writing = WriteAsync(pipe.Writer, $"250 2.0.0 1 ID {content.Length} octets follow; flags none\r\n{content}221 2.0.0 bye\r\n", feed);
        Assert.Equal(250, (await reader.ReadAsync(TestContext.Current.CancellationToken)).Code);
        Assert.Equal(content, Encoding.UTF8.GetString(await reader.ReadExactAsync(content.Length, TestContext.Current.CancellationToken)));
        Assert.Equal(221, (await reader.ReadAsync(TestContext.Current.CancellationToken)).Code);
        await writing;
    }

    [Theory]
    [InlineData("hello\r\n")]
    [InlineData("25 short\r\n")]
    [InlineData("250-first\r\n251 mixed codes\r\n")]
    [InlineData("250x what\r\n")]
    [InlineData("199 not a reply code\r\n")]
    public async Task A_malformed_reply_is_a_protocol_error(string wire)
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(wire), TestContext.Current.CancellationToken);
        var reader = new ReplyReader(pipe.Reader);
        await Assert.ThrowsAsync<SmtpProtocolException>(() => reader.ReadAsync(TestContext.Current.CancellationToken).AsTask());
    }

    [Fact]
    public async Task A_connection_that_ends_inside_a_reply_is_a_protocol_error()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync("250-half a reply\r\n250 and"u8.ToArray(), TestContext.Current.CancellationToken);
        await pipe.Writer.CompleteAsync();
        var reader = new ReplyReader(pipe.Reader);
        await Assert.ThrowsAsync<SmtpProtocolException>(() => reader.ReadAsync(TestContext.Current.CancellationToken).AsTask());
    }

    [Fact]
    public async Task An_incomplete_reply_waits_for_the_rest()
    {
        var pipe = new Pipe();
        var reader = new ReplyReader(pipe.Reader);
        await pipe.Writer.WriteAsync("250-first\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
        var reading = reader.ReadAsync(TestContext.Current.CancellationToken).AsTask();
        Assert.False(reading.IsCompleted);
        await pipe.Writer.WriteAsync("250 last\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
        Assert.Equal(["first", "last"], (await reading).Lines);
    }

    [Theory]
    [InlineData("Subject: x\r\n\r\nplain\r\n", false, false)]
    [InlineData("Subject: caf\u00e9\r\n\r\n", true, false)]
    [InlineData("a\nb\r\n", false, true)]
    [InlineData("a\rb\r\n", false, true)]
    [InlineData("ends in CR\r", false, true)]
    public void The_shape_of_a_message_decides_8bitmime_and_bdat(string message, bool eightBit, bool notLineClean)
    {
        var shape = MessageShape.Of(Encoding.UTF8.GetBytes(message));
        Assert.Equal(eightBit, shape.EightBit);
        Assert.Equal(notLineClean, shape.NotLineClean);
    }

    [Fact]
    public void A_line_of_998_octets_is_clean_and_999_is_not()
    {
        Assert.False(MessageShape.Of(Encoding.ASCII.GetBytes(new string('a', 998) + "\r\n")).NotLineClean);
        Assert.True(MessageShape.Of(Encoding.ASCII.GetBytes(new string('a', 999) + "\r\n")).NotLineClean);
    }

    [Fact]
    public async Task A_reply_that_never_ends_is_refused_at_the_limit_not_buffered_without_bound()
    {
        // A hostile server: continuation lines for ever, produced only as the reader asks for them.
        await using var server = new EndlessReply();
        var reader = new ReplyReader(PipeReader.Create(server, new StreamPipeReaderOptions(bufferSize: 4096)), maxReplySize: 64 * 1024);

        // Without a limit the read would go on for ever: a deadline makes that a failure, not a hang.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        var refused = await Assert.ThrowsAsync<SmtpProtocolException>(() => reader.ReadAsync(deadline.Token).AsTask());
        Assert.Contains("MaxReplySize", refused.Message, StringComparison.Ordinal);
        Assert.InRange(server.Produced, 64 * 1024, (64 * 1024) + 4096);
    }

    /// <summary>A stream of "250-xxx" lines without end, counting what it gave.</summary>
    private sealed class EndlessReply : Stream
    {
        private static readonly byte[] Line = Encoding.ASCII.GetBytes("250-" + new string('x', 60) + "\r\n");

        public long Produced { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            for (var i = 0; i < count; i++)
            {
                buffer[offset + i] = Line[(int)(Produced++ % Line.Length)];
            }

            return count;
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Theory]
    [InlineData(Feed.Whole)]
    [InlineData(Feed.LineByLine)]
    public async Task A_reply_of_a_hundred_thousand_lines_within_the_limit_is_read_whole(Feed feed)
    {
        // LIST of a large mailbox: a line per message.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var reader = new ReplyReader(pipe.Reader);
        var lines = Enumerable.Range(0, 100_000).Select(i => $"{i} 01ABCDEF{i:D8} 2026-11-29T00:00:00Z 1234 none <a@b.test> subject {i}").ToList();
        var reading = reader.ReadAsync(TestContext.Current.CancellationToken).AsTask();
        await WriteAsync(pipe.Writer, "250-100000 messages\r\n" + string.Concat(lines.SkipLast(1).Select(l => "250-" + l + "\r\n")) + "250 " + lines[^1] + "\r\n", feed);
        var reply = await reading;
        Assert.Equal(["100000 messages", .. lines], reply.Lines);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(511)]
    public async Task A_reply_limit_below_one_reply_line_is_refused_before_connecting(long limit)
    {
        // Nothing listens on port 9 of loopback (discard): the check must come first.
        var options = new SmtpClientOptions { Tls = TlsMode.None, MaxReplySize = limit };
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => SmtpConnection.ConnectAsync("127.0.0.1", 9, options, TestContext.Current.CancellationToken));
    }
}
