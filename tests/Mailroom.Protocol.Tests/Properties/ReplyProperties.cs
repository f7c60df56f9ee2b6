using System.Buffers;
using System.Text;
using Mailroom.Protocol.Replies;

namespace Mailroom.Protocol.Tests.Properties;

/// <summary>
/// <see cref="ReplyFormatter"/> then <see cref="ReplyParser"/>: a reply written out reads back as the
/// same reply, however the bytes are split; hostile reply bytes give a reply, "incomplete" or a
/// <see cref="FormatException"/>, never another exception.
/// </summary>
public sealed class ReplyProperties
{
    private const int Cases = 3000;

    internal static string Text(Random random)
    {
        var builder = new StringBuilder();
        var length = random.Next(0, 40);
        for (var i = 0; i < length; i++)
        {
            builder.Append(random.Next(8) switch
            {
                0 => " ",
                1 => random.Pick(["é", "日本", "😀", "-", ".", "2.0.0", "250", "\t"]),
                _ => ((char)random.Next(0x21, 0x7f)).ToString(),
            });
        }

        return builder.ToString();
    }

    /// <summary>A reply as the catalogue could make one: code 200-599, an enhanced code of the same class (RFC 3463 2) or none, text without CR or LF.</summary>
    internal static SmtpReply RandomReply(Random random)
    {
        var code = random.Next(200, 600);
        EnhancedStatusCode? enhanced = code / 100 != 3 && random.Next(4) > 0
            ? new EnhancedStatusCode(code / 100, random.Next(random.Next(2) == 0 ? 10 : 1000), random.Next(random.Next(2) == 0 ? 10 : 1000))
            : null;
        var lines = Enumerable.Range(0, random.Next(3) == 0 ? random.Next(2, 12) : 1).Select(_ =>
        {
            var text = Text(random);

            // RFC 2034 4: with ENHANCEDSTATUSCODES a line's first word is read as the enhanced code
            // when it looks like one of the reply's class. A reply sent without one cannot start a line so.
            while (enhanced is null && EnhancedStatusCode.TryParse(text.Split(' ')[0], out var lookalike) && lookalike.Class == code / 100)
            {
                text = "x" + text;
            }

            return text;
        }).ToList();
        return new SmtpReply(code, enhanced, lines);
    }

    internal static void AssertSameReply(SmtpReply expected, SmtpReply? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Code, actual.Code);
        Assert.Equal(expected.Enhanced, actual.Enhanced);
        Assert.Equal(expected.Lines, actual.Lines);
    }

    [Fact]
    public void A_formatted_reply_parses_back_to_the_same_reply()
    {
        Property.ForAll(2034, Cases, random =>
        {
            var replies = Enumerable.Range(0, random.Next(1, 4)).Select(_ => RandomReply(random)).ToList();
            var writer = new ArrayBufferWriter<byte>();
            foreach (var reply in replies)
            {
                ReplyFormatter.Write(reply, writer);
            }

            // RFC 5321 4.2.1: pipelined replies follow each other; each parse takes exactly one.
            var buffer = random.Segmented(writer.WrittenSpan.ToArray());
            foreach (var expected in replies)
            {
                Assert.True(ReplyParser.TryParse(ref buffer, enhanced: true, out var parsed));
                AssertSameReply(expected, parsed);
            }

            Assert.True(buffer.IsEmpty);
        });
    }

    [Fact]
    public void A_prefix_of_a_reply_is_incomplete_and_consumes_nothing()
    {
        Property.ForAll(2035, Cases, random =>
        {
            var writer = new ArrayBufferWriter<byte>();
            ReplyFormatter.Write(RandomReply(random), writer);
            var bytes = writer.WrittenSpan.ToArray();
            var prefix = random.Segmented(bytes[..random.Next(bytes.Length)]);
            var before = prefix;
            Assert.False(ReplyParser.TryParse(ref prefix, enhanced: true, out var reply));
            Assert.Null(reply);
            Assert.Equal(before.Length, prefix.Length);
        });
    }

    internal static byte[] HostileReply(Random random)
    {
        var bytes = new List<byte>();
        var count = random.Next(1, 10);
        var code = random.Next(0, 1000).ToString("000", System.Globalization.CultureInfo.InvariantCulture);
        for (var i = 0; i < count; i++)
        {
            var line = random.Next(9) switch
            {
                0 => random.Bytes(random.Next(20)),
                1 => Encoding.UTF8.GetBytes(random.Next(1000).ToString(System.Globalization.CultureInfo.InvariantCulture) + random.Pick(["-", " ", "x", ""]) + Text(random)),
                2 => Encoding.UTF8.GetBytes(code + "-" + new string('a', random.Next(400, 3000))),
                3 => Encoding.UTF8.GetBytes(random.Pick(["", "2", "25", "250", "-", "250-", "250 ", "abc def", "\0\0\0"])),
                4 => Encoding.UTF8.GetBytes(random.Pick(["099", "600", "999", "000", "199"]) + random.Pick([" ", "-"]) + Text(random)),
                _ => Encoding.UTF8.GetBytes(code + random.Pick(["-", "-", " "]) + Text(random)),
            };
            bytes.AddRange(line);
            bytes.AddRange(random.Pick<byte[]>([[(byte)'\r', (byte)'\n'], [(byte)'\r', (byte)'\n'], [(byte)'\n'], [(byte)'\r'], []]));
        }

        return [.. bytes];
    }

    [Fact]
    public void Hostile_reply_bytes_give_a_reply_incomplete_or_a_format_exception()
    {
        Property.ForAll(2036, Cases, random =>
        {
            var buffer = random.Segmented(HostileReply(random));
            var length = buffer.Length;
            try
            {
                if (ReplyParser.TryParse(ref buffer, enhanced: random.Next(4) > 0, out var reply))
                {
                    // RFC 5321 4.2: Reply-code = %x32-35 %x30-35 %x30-39.
                    Assert.NotNull(reply);
                    Assert.InRange(reply.Code, 200, 599);
                    Assert.True(buffer.Length < length);
                }
                else
                {
                    Assert.Equal(length, buffer.Length);
                }
            }
            catch (FormatException)
            {
                // The one typed parse error.
            }
        });
    }

    [Fact]
    public void Looking_for_the_final_line_as_octets_arrive_agrees_with_parsing_the_whole()
    {
        Property.ForAll(2037, Cases, random =>
        {
            byte[] bytes;
            if (random.Next(2) == 0)
            {
                bytes = HostileReply(random);
            }
            else
            {
                var writer = new ArrayBufferWriter<byte>();
                ReplyFormatter.Write(RandomReply(random), writer);
                bytes = writer.WrittenSpan.ToArray();
            }

            // The octets arrive in pieces; what was scanned is carried from one look to the next.
            // The last look is always at the whole input, so a complete reply is checked every case.
            long scanned = 0;
            for (var end = 0; end <= bytes.Length; end = end == bytes.Length ? end + 1 : Math.Min(end + random.Next(1, 40), bytes.Length))
            {
                var prefix = random.Segmented(bytes[..end]);
                bool found;
                try
                {
                    found = ReplyParser.HasFinalLine(prefix, ref scanned);
                }
                catch (FormatException)
                {
                    return;
                }

                Assert.InRange(scanned, 0, end);
                bool parsed;
                try
                {
                    parsed = ReplyParser.TryParse(ref prefix, enhanced: true, out _);
                }
                catch (FormatException)
                {
                    // A bad line: TryParse refuses it at once, the reader once the final line or the limit comes.
                    continue;
                }

                // A complete reply is never missed, and nothing is called complete that is not.
                Assert.Equal(parsed, found);
                if (found)
                {
                    return;
                }
            }
        });
    }

    /// <summary>
    /// Regression (found by <see cref="Hostile_reply_bytes_give_a_reply_incomplete_or_a_format_exception"/>):
    /// a three-digit code outside 2xx-5xx escaped the parser as SmtpReply's ArgumentOutOfRangeException.
    /// </summary>
    [Theory]
    [InlineData("999 nonsense\r\n")]
    [InlineData("000 nonsense\r\n")]
    [InlineData("199-first\r\n199 last\r\n")]
    [InlineData("600 2.0.0 ok\r\n")]
    public void A_reply_code_outside_2xx_to_5xx_is_a_format_error(string wire)
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(wire));
        Assert.Throws<FormatException>(() => ReplyParser.TryParse(ref buffer, enhanced: true, out _));
    }
}
