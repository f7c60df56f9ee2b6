using System.Buffers;
using Mailroom.Protocol.Data;

namespace Mailroom.Protocol.Tests.Properties;

/// <summary>
/// <see cref="DotStuffer"/> then <see cref="DotUnstuffer"/> is the identity on a body that ends with
/// CRLF (RFC 5321 4.5.2), and the un-stuffer stops exactly at the CRLF "." CRLF terminator.
/// </summary>
public sealed class DotStuffingProperties
{
    private const int Cases = 3000;

    private static readonly byte[][] Pieces =
    [
        .. new[] { ".", ".", "..", "\r", "\n", "\r\n", "\r\n", "\r\n.\r\n", "\r\n..\r\n", "\r\n.", ".\r", ".\n", "\n.\n", "\r.\r", "\r\r\n", "a", "text ", "\0" }
            .Select(System.Text.Encoding.ASCII.GetBytes),
        [0xff], [0xc3, 0xa9],
    ];

    internal static byte[] Body(Random random)
    {
        var body = new List<byte>();
        var count = random.Next(30);
        for (var i = 0; i < count; i++)
        {
            body.AddRange(random.Next(20) == 0 ? random.Bytes(random.Next(100)) : random.Pick(Pieces));
        }

        return [.. body];
    }

    /// <summary>Splits <paramref name="bytes"/> into random chunks: whole, a few pieces, or single octets.</summary>
    internal static IEnumerable<ReadOnlyMemory<byte>> Chunks(Random random, byte[] bytes)
    {
        var mode = random.Next(3);
        for (var i = 0; i < bytes.Length;)
        {
            var size = mode switch
            {
                0 => bytes.Length,
                1 => random.Next(1, 8),
                _ => random.Next(1, bytes.Length + 1),
            };
            size = Math.Min(size, bytes.Length - i);
            yield return bytes.AsMemory(i, size);
            i += size;
        }
    }

    private static byte[] Stuff(Random random, byte[] body)
    {
        var stuffer = default(DotStuffer);
        var wire = new ArrayBufferWriter<byte>();
        foreach (var chunk in Chunks(random, body))
        {
            stuffer.Write(chunk.Span, wire);
        }

        stuffer.Complete(wire);
        return wire.WrittenSpan.ToArray();
    }

    /// <summary>Un-stuffs chunk by chunk; returns the content and how many octets were consumed, or null content when no terminator came.</summary>
    private static (byte[]? Content, int Consumed) Unstuff(Random random, byte[] wire)
    {
        var unstuffer = new DotUnstuffer();
        var content = new List<byte>();
        var offset = 0;
        foreach (var chunk in Chunks(random, wire))
        {
            var output = new byte[chunk.Length + 1];
            var done = unstuffer.Feed(chunk.Span, output, out var consumed, out var written);
            Assert.InRange(consumed, 0, chunk.Length);
            content.AddRange(output.AsSpan(0, written));
            if (done)
            {
                return ([.. content], offset + consumed);
            }

            Assert.Equal(chunk.Length, consumed);
            offset += chunk.Length;
        }

        return (null, offset);
    }

    [Fact]
    public void Stuffing_then_unstuffing_gives_back_the_body_with_its_final_crlf()
    {
        Property.ForAll(5214, Cases, random =>
        {
            var body = Body(random);
            var wire = Stuff(random, body);

            // RFC 5321 4.1.1.4: the data ends with "<CRLF>.<CRLF>"; DotStuffer.Complete adds the
            // CRLF itself when the body does not end with one, so the body comes back with it.
            var endsWithCrlf = body.Length >= 2 && body[^2] == '\r' && body[^1] == '\n';
            byte[] expected = body.Length == 0 || endsWithCrlf ? body : [.. body, (byte)'\r', (byte)'\n'];
            var (content, consumed) = Unstuff(random, wire);
            Assert.NotNull(content);
            Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(content));
            Assert.Equal(wire.Length, consumed);
        });
    }

    [Fact]
    public void The_unstuffer_leaves_every_octet_after_the_terminator_unread()
    {
        Property.ForAll(5215, Cases, random =>
        {
            var wire = Stuff(random, Body(random));
            var after = random.Next(2) == 0 ? "RSET\r\nMAIL FROM:<a@b>\r\n.\r\n"u8.ToArray() : Body(random);
            var (content, consumed) = Unstuff(random, [.. wire, .. after]);

            // RFC 5321 4.1.1.4 and 2.3.8: only CRLF "." CRLF ends the data, and what follows is the next command.
            Assert.NotNull(content);
            Assert.Equal(wire.Length, consumed);
            byte[] input = [.. wire, .. after];
            Assert.Equal(Convert.ToHexString(after), Convert.ToHexString(input.AsSpan(consumed)));
        });
    }
}
