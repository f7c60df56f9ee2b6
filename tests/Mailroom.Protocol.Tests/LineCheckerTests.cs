using System.Text;
using Mailroom.Protocol.Data;

namespace Mailroom.Protocol.Tests;

public class LineCheckerTests
{
    private static LineChecker Check(string content, int max = 1000)
    {
        var checker = new LineChecker(max);
        checker.Check(Encoding.ASCII.GetBytes(content));
        return checker;
    }

    [Theory]
    [InlineData("a\r\nb\r\n", false)]
    [InlineData("a\nb\r\n", true)]
    [InlineData("a\rb\r\n", true)]
    [InlineData("a\r\r\n", true)]
    [InlineData("\n", true)]
    [InlineData("", false)]
    public void Bare_line_endings(string content, bool bare)
    {
        Assert.Equal(bare, Check(content).SawBareLineEnding);
    }

    [Fact]
    public void Lines_up_to_the_limit_pass_and_longer_ones_do_not()
    {
        Assert.False(Check(new string('x', 998) + "\r\n").SawLongLine);
        Assert.True(Check(new string('x', 999) + "\r\n").SawLongLine);
        Assert.False(Check(new string('x', 998) + "\r\n" + new string('y', 998) + "\r\n").SawLongLine);
    }
}

/// <summary>The vectorised <see cref="LineChecker.Check"/> against the byte-by-byte rule it replaced.</summary>
public class LineCheckerEquivalenceTests
{
    [Fact]
    public void Random_content_in_random_pieces_gives_the_verdicts_of_checking_octet_by_octet()
    {
        var random = new Random(8);
        byte[] alphabet = [(byte)'\r', (byte)'\n', (byte)'a', (byte)'.', 0xC3, (byte)' '];
        for (var round = 0; round < 5000; round++)
        {
            var content = new byte[random.Next(0, 300)];
            var plain = random.Next(4) == 0;
            for (var i = 0; i < content.Length; i++)
            {
                // Mostly CRLF-terminated text, so the verdicts are not all "bare" from the start.
                content[i] = plain ? (byte)'x' : alphabet[random.Next(alphabet.Length)];
            }

            if (!plain && random.Next(2) == 0)
            {
                content = System.Text.Encoding.ASCII.GetBytes(string.Join("\r\n", content.Select(b => new string('y', b % 40))) + "\r\n");
            }

            var max = random.Next(3, 60);
            var reference = Reference(content, max);
            var checker = new LineChecker(max);
            var rest = content.AsSpan();
            while (!rest.IsEmpty)
            {
                var take = random.Next(1, rest.Length + 1);
                checker.Check(rest[..take]);
                rest = rest[take..];
            }

            var atEnd = random.Next(2) == 0;
            if (atEnd)
            {
                checker.Complete();
            }

            var expected = atEnd ? reference.Completed : reference.Open;
            Assert.Equal(expected.Bare, checker.SawBareLineEnding);
            Assert.Equal(expected.Long, checker.SawLongLine);
        }
    }

    /// <summary>RFC 5321 2.3.8 and 4.5.3.1.6 applied one octet at a time, as LineChecker first did.</summary>
    private static ((bool Bare, bool Long) Open, (bool Bare, bool Long) Completed) Reference(byte[] content, int max)
    {
        bool afterCr = false, bare = false, tooLong = false;
        var length = 0;
        foreach (var b in content)
        {
            if (b == (byte)'\n')
            {
                if (afterCr)
                {
                    afterCr = false;
                    length = 0;
                }
                else
                {
                    bare = true;
                }

                continue;
            }

            bare |= afterCr;
            afterCr = b == (byte)'\r';
            if (!afterCr && ++length > max - 2)
            {
                tooLong = true;
            }
        }

        return ((bare, tooLong), (bare || afterCr, tooLong));
    }
}
