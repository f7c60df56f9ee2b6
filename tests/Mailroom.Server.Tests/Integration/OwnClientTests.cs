using System.Text;
using Mailroom.Client;

namespace Mailroom.Server.Tests.Integration;

/// <summary>Mailroom's own client library against the server, over loopback TCP.</summary>
public class OwnClientTests
{
    private static readonly byte[] Message = Encoding.UTF8.GetBytes("Subject: own client\r\n\r\n.dot first\r\nbody\r\n");

    [Fact]
    public async Task Sends_with_pipelining_and_returns_the_queue_id()
    {
        await using var server = await LoopbackServer.StartAsync();
        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", server.Port, "own.client", TestContext.Current.CancellationToken);
        Assert.Contains("PIPELINING", client.Extensions);
        var result = await client.SendAsync("me@remote.test", ["alice@example.test", "nobody@example.test", "bob@example.test"], Message, TestContext.Current.CancellationToken);
        Assert.Equal("nobody@example.test", Assert.Single(result.Refused).Recipient);
        await client.QuitAsync(TestContext.Current.CancellationToken);

        var stored = await server.Store.ListMessagesAsync(null, CancellationToken.None);
        Assert.Equal(2, stored.Count);
        var queueId = Assert.IsType<string>(result.QueueId);
        Assert.All(stored, s => Assert.Equal(queueId, s.MessageId));
        await using var body = await server.Store.OpenMessageAsync(queueId, CancellationToken.None);
        using var reader = new StreamReader(body!);
        Assert.EndsWith("\r\n\r\n.dot first\r\nbody\r\n", await reader.ReadToEndAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_every_recipient_is_refused_nothing_is_sent_and_the_connection_stays_usable()
    {
        await using var server = await LoopbackServer.StartAsync();
        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", server.Port, "own.client", TestContext.Current.CancellationToken);
        var ex = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync("me@remote.test", ["x@elsewhere.test"], Message, TestContext.Current.CancellationToken));
        Assert.Equal(550, ex.Reply!.Code);
        Assert.Contains("RCPT TO:<x@elsewhere.test>", ex.Message, StringComparison.Ordinal);
        var ok = await client.SendAsync("me@remote.test", ["alice@example.test"], Message, TestContext.Current.CancellationToken);
        Assert.Equal(250, ok.Reply.Code);
        Assert.Single(await server.Store.ListMessagesAsync(null, CancellationToken.None));
    }

    [Fact]
    public async Task Cr_or_lf_in_an_argument_is_refused_before_anything_is_sent()
    {
        await using var server = await LoopbackServer.StartAsync();
        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", server.Port, "own.client", TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync("me@remote.test>\r\nRCPT TO:<bob@example.test", ["alice@example.test"], Message, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync("me@remote.test", ["alice@example.test", "bob@example.test>\r\nRSET"], Message, TestContext.Current.CancellationToken));
        Assert.Equal(250, (await client.CommandAsync("NOOP", TestContext.Current.CancellationToken)).Code);

        // Nothing of the refused sends was left buffered: a RCPT now is out of sequence.
        Assert.Equal(503, (await client.CommandAsync("RCPT TO:<alice@example.test>", TestContext.Current.CancellationToken)).Code);
    }
}
