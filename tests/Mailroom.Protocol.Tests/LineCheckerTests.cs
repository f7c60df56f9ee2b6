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
