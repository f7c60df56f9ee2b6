using System.Text;
using Mailroom.Server;

namespace Mailroom.Client.Tests;

/// <summary>The mailbox commands end to end: LOGN, READ, NEXT/PREV, FLAG, LIST, DELE, RTRN.</summary>
public class MailboxTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Read_page_flag_list_delete_and_log_out()
    {
        await using var server = await TestServer.StartAsync(role: ListenerRole.Submission, auth: true);
        var first = "Subject: first\r\n\r\n.\r\n250 OK\r\n"u8.ToArray();
        var second = Encoding.UTF8.GetBytes("Subject: second \u00e9\r\n\r\nbody\r\n");
        await using (var sender = await SmtpConnection.ConnectAsync("127.0.0.1", server.Port, server.Pinned(), Ct))
        {
            await sender.AuthenticateAsync(TestServer.Bob, TestServer.Password, Ct);
            await sender.SendAsync(TestServer.Bob, [TestServer.Alice], first, Ct);
            await sender.SendAsync(TestServer.Bob, [TestServer.Alice], second, Ct);
        }

        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", server.Port, server.Pinned(), Ct);
        await client.LogInAsync(TestServer.Alice, TestServer.Password, Ct);
        Assert.Equal(TestServer.Alice, client.AuthenticatedUser);
        Assert.Equal(new MailboxStatus("INBOX", 2, 2), await client.OpenMailboxAsync("INBOX", Ct));

        var one = await client.NextAsync(Ct);
        Assert.NotNull(one);
        Assert.Equal(1, one.Number);
        Assert.Equal("read", one.Flags);
        var stored = await server.Store.OpenMessageAsync(one.Id, Ct);
        using (var copy = new MemoryStream())
        {
            await stored!.CopyToAsync(copy, Ct);
            await stored.DisposeAsync();
            Assert.Equal(copy.ToArray(), one.Content);
        }

        Assert.Equal(first, one.Content[^first.Length..]);
        var two = await client.NextAsync(Ct);
        Assert.Equal(second, two!.Content[^second.Length..]);
        Assert.Null(await client.NextAsync(Ct));
        var back = await client.PreviousAsync(Ct);
        Assert.Equal(one.Id, back!.Id);
        Assert.Equal(one.Content, back.Content);
        Assert.Equal("read,important", await client.FlagAsync(MailFlag.Important, on: true, Ct));
        Assert.Equal("important", await client.FlagAsync(MailFlag.Read, on: false, Ct));
        Assert.Null(await client.PreviousAsync(Ct));

        var list = await client.ListAsync(Ct);
        Assert.Equal(2, list.Count);
        Assert.Equal((1, one.Id, "important", TestServer.Bob, "first"), (list[0].Number, list[0].Id, list[0].Flags, list[0].From, list[0].Subject));
        Assert.Equal(one.Content.Length, list[0].Size);
        Assert.NotNull(list[0].Date);
        Assert.Equal("second \u00e9", list[1].Subject);

        await client.OpenMailboxAsync("INBOX", Ct);
        Assert.Equal(1, (await client.NextAsync(Ct))!.Number);
        Assert.Equal(1, await client.DeleteCurrentAsync(Ct));
        Assert.Single(await client.ListAsync(Ct));
        Assert.Equal(1, await client.DeleteMailboxAsync("INBOX", Ct));
        Assert.Empty(await client.ListAsync(Ct));

        await client.LogOutAsync(Ct);
        Assert.Null(client.AuthenticatedUser);
        var closed = await Assert.ThrowsAsync<SmtpCommandException>(() => client.OpenMailboxAsync("INBOX", Ct));
        Assert.Equal(530, closed.Reply!.Code);
        await client.QuitAsync(Ct);
    }

    [Fact]
    public async Task A_mailbox_one_may_not_open_is_a_command_error()
    {
        await using var server = await TestServer.StartAsync(role: ListenerRole.Submission, auth: true);
        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", server.Port, server.Pinned(), Ct);
        await client.LogInAsync(TestServer.Alice, TestServer.Password, Ct);
        var ex = await Assert.ThrowsAsync<SmtpCommandException>(() => client.OpenMailboxAsync(TestServer.Bob, Ct));
        Assert.Equal(550, ex.Reply!.Code);
        Assert.Equal(new MailboxStatus("INBOX", 0, 0), await client.OpenMailboxAsync("INBOX", Ct));
        Assert.Null(await client.NextAsync(Ct));
    }

    /// <summary>A server announcing 2 GiB after NEXT must not make the client allocate 2 GiB up front.</summary>
    [Theory]
    [InlineData(2_147_483_647, null)]
    [InlineData(1001, 1000)]
    public async Task A_huge_announced_message_is_refused_before_it_is_allocated(int announced, int? limit)
    {
        await using var fake = new FakeServer(async s =>
        {
            await s.SendAsync("220 fake ESMTP\n");
            await s.ReadLineAsync();
            await s.SendAsync("250 fake\n");
            await s.ReadLineAsync();
            await s.SendAsync($"250 2.0.0 1 <id@fake> {announced} octets follow; flags none\n");
            await s.DrainAsync();
        });
        var options = new SmtpClientOptions { Tls = TlsMode.None, CommandTimeout = TimeSpan.FromSeconds(5) };
        options = limit is { } max ? options with { MaxMessageFetchSize = max } : options;
        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", fake.Port, options, Ct);
        var ex = await Assert.ThrowsAsync<SmtpProtocolException>(() => client.NextAsync(Ct));
        Assert.Contains("MaxMessageFetchSize", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SmtpProtocolException>(() => client.NextAsync(Ct));
    }
}
