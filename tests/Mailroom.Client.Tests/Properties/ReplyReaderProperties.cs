using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Mailroom.Protocol.Replies;
using Mailroom.Testing.Streams;

namespace Mailroom.Client.Tests.Properties;

/// <summary>
/// The client's <see cref="ReplyReader"/> over a stream that hands out random-sized reads: formatted
/// replies (RFC 5321 4.2) read back as the same replies, and hostile bytes end in an
/// <see cref="SmtpProtocolException"/>, the client's "reconnect" error, and nothing else.
/// Each case has its own seed, printed on failure; MAILROOM_PROPERTY_SEED replaces the test's seed.
/// </summary>
public sealed class ReplyReaderProperties
{
    private const int Cases = 2000;

    private static string Text(Random random) => string.Concat(Enumerable.Range(0, random.Next(30)).Select(_ => random.Next(6) switch
    {
        0 => " ",
        1 => new[] { "é", "日本", "😀", "-", "." }[random.Next(5)],
        _ => ((char)random.Next(0x21, 0x7f)).ToString(),
    }));

    private static SmtpReply RandomReply(Random random)
    {
        var code = random.Next(200, 600);
        EnhancedStatusCode? enhanced = code / 100 != 3 && random.Next(4) > 0 ? new EnhancedStatusCode(code / 100, random.Next(1000), random.Next(1000)) : null;
        var lines = Enumerable.Range(0, random.Next(3) == 0 ? random.Next(2, 10) : 1).Select(_ =>
        {
            // RFC 2034 4: a first word shaped like an enhanced code of the reply's class would be read as one.
            var text = Text(random);
            return enhanced is null && EnhancedStatusCode.TryParse(text.Split(' ')[0], out var lookalike) && lookalike.Class == code / 100 ? "x" + text : text;
        }).ToList();
        return new SmtpReply(code, enhanced, lines);
    }

    private static ReplyReader Reader(Random random, byte[] wire) =>
        new(PipeReader.Create(new PiecewiseStream(wire, Trickle(random)), new StreamPipeReaderOptions(bufferSize: 64, minimumReadSize: 1)));

    [Fact]
    public async Task Formatted_replies_read_back_as_the_same_replies_however_the_bytes_arrive()
    {
        await Property.ForAllAsync(4954, Cases, async random =>
        {
            var replies = Enumerable.Range(0, random.Next(1, 4)).Select(_ => RandomReply(random)).ToList();
            var writer = new ArrayBufferWriter<byte>();
            foreach (var reply in replies)
            {
                ReplyFormatter.Write(reply, writer);
            }

            var reader = Reader(random, writer.WrittenSpan.ToArray());
            foreach (var expected in replies)
            {
                var actual = await reader.ReadAsync(TestContext.Current.CancellationToken);
                Assert.Equal(expected.Code, actual.Code);
                Assert.Equal(expected.Enhanced, actual.Enhanced);
                Assert.Equal(expected.Lines, actual.Lines);
            }

            // The server hung up after its last reply: that, too, is the protocol exception.
            await Assert.ThrowsAsync<SmtpProtocolException>(() => reader.ReadAsync(TestContext.Current.CancellationToken).AsTask());
        });
    }

    [Fact]
    public async Task Hostile_reply_bytes_end_in_a_protocol_exception_and_nothing_else()
    {
        await Property.ForAllAsync(4955, Cases, async random =>
        {
            var wire = new List<byte>();
            var code = random.Next(1000).ToString("000", System.Globalization.CultureInfo.InvariantCulture);
            for (var i = random.Next(1, 8); i > 0; i--)
            {
                wire.AddRange(random.Next(7) switch
                {
                    0 => RandomBytes(random, random.Next(20)),
                    1 => Encoding.UTF8.GetBytes(random.Next(1000).ToString(System.Globalization.CultureInfo.InvariantCulture) + new[] { "-", " ", "x", "" }[random.Next(4)] + Text(random)),
                    2 => Encoding.UTF8.GetBytes(code + "-" + new string('a', random.Next(400, 3000))),
                    3 => Encoding.UTF8.GetBytes(new[] { "", "2", "25", "250", "-", "250-", "abc def", "\0\0\0", "999 x", "199-x" }[random.Next(10)]),
                    _ => Encoding.UTF8.GetBytes(code + new[] { "-", "-", " " }[random.Next(3)] + Text(random)),
                });
                wire.AddRange(new[] { "\r\n", "\r\n", "\n", "\r", string.Empty }.Select(Encoding.ASCII.GetBytes).ElementAt(random.Next(5)));
            }

            // Whatever came first, reading on must end in the protocol exception: the stream ends with no final line.
            wire.AddRange("250-no final line"u8.ToArray());
            var reader = Reader(random, [.. wire]);
            for (var reads = 0; ; reads++)
            {
                Assert.True(reads <= wire.Count, "the reader never stopped");
                try
                {
                    var reply = await reader.ReadAsync(TestContext.Current.CancellationToken);
                    Assert.InRange(reply.Code, 200, 599);
                }
                catch (SmtpProtocolException)
                {
                    return;
                }
            }
        });
    }

    /// <summary>Pieces a random few octets long, a third of them a single octet, without end.</summary>
    private static IEnumerable<int> Trickle(Random random)
    {
        while (true)
        {
            yield return random.Next(3) == 0 ? 1 : random.Next(1, 200);
        }
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
