using Mailroom.Protocol.Replies;

namespace Mailroom.Client.Tests;

/// <summary>The queue id is read only where the reply says it is one; the reply's text is there whole.</summary>
public class SendResultTests
{
    private static SendResult Result(params string[] lines) => new(new SmtpReply(250, null, lines), [], TimeSpan.Zero);

    [Theory]
    [InlineData("OK: queued as 4ABC123", "4ABC123")]
    [InlineData("Ok: Queued As 4ABC123.", "4ABC123")]
    [InlineData("OK id=1rXyZ-000abc-Q1", "1rXyZ-000abc-Q1")]
    [InlineData("OK ID=abc;", "abc")]
    [InlineData("OK  1700000000 x1-abc.123 - gsmtp", null)]
    [InlineData("Message accepted for delivery", null)]
    [InlineData("<msg@host> [InternalId=123] Queued mail for delivery", null)]
    [InlineData("queued as .", null)]
    public void Queue_id_only_when_named(string text, string? expected) => Assert.Equal(expected, Result(text).QueueId);

    [Fact]
    public void Reply_text_joins_every_line()
    {
        var result = Result("first line", "OK: queued as X1");
        Assert.Equal("first line\nOK: queued as X1", result.ReplyText);
        Assert.Equal("X1", result.QueueId);
    }
}
