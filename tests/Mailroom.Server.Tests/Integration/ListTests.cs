using Mailroom.Core.Storage;

namespace Mailroom.Server.Tests.Integration;

/// <summary>Mailing lists over real SMTP, and VRFY and EXPN under each policy.</summary>
public class ListTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task<RawClient> GreetedAsync(LoopbackServer server)
    {
        var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.Equal(250, (await client.CommandAsync("EHLO lists.test")).Code);
        return client;
    }

    private static async Task SendAsync(RawClient client, string from, params string[] to)
    {
        Assert.Equal(250, (await client.CommandAsync($"MAIL FROM:<{from}>")).Code);
        foreach (var recipient in to)
        {
            var reply = await client.CommandAsync($"RCPT TO:<{recipient}>");
            Assert.True(reply.Code == 250, $"{recipient}: {reply}");
        }

        Assert.Equal(354, (await client.CommandAsync("DATA")).Code);
        Assert.Equal(250, (await client.CommandAsync("Subject: to the list\r\n\r\nhello\r\n.")).Code);
    }

    [Fact]
    public async Task Nested_lists_with_a_loop_and_a_direct_recipient_deliver_one_copy_per_mailbox_and_store_one_body()
    {
        await using var server = await LoopbackServer.StartAsync();
        var store = server.Store;
        await store.AddListAsync("staff@example.test", PostingPolicy.Anyone, None);
        await store.AddListAsync("all@example.test", PostingPolicy.Anyone, None);
        await store.SetListMemberAsync("staff@example.test", "alice@example.test", true, None);
        await store.SetListMemberAsync("staff@example.test", "bob@example.test", true, None);
        await store.SetListMemberAsync("staff@example.test", "all@example.test", true, None);
        await store.SetListMemberAsync("all@example.test", "staff@example.test", true, None);
        await store.SetListMemberAsync("all@example.test", "用户@例子.测试", true, None);
        await store.SetListMemberAsync("all@example.test", "gone@example.test", true, None);

        await using var client = await GreetedAsync(server);
        await SendAsync(client, "boss@remote.test", "all@example.test", "alice@example.test", "staff@example.test");

        var deliveries = await store.ListMessagesAsync(null, None);
        Assert.Equal(["alice@example.test", "bob@example.test", "用户@例子.测试"], deliveries.Select(d => d.Mailbox).Order());
        Assert.Single(deliveries.Select(d => d.MessageId).Distinct());
    }

    [Fact]
    public async Task Who_may_post_follows_the_lists_policy()
    {
        await using var server = await LoopbackServer.StartAsync();
        var store = server.Store;
        await store.AddListAsync("team@example.test", PostingPolicy.Members, None);
        await store.SetListMemberAsync("team@example.test", "alice@example.test", true, None);
        await store.AddListAsync("news@example.test", PostingPolicy.Senders, None);
        await store.SetListMemberAsync("news@example.test", "bob@example.test", true, None);
        await store.SetListSenderAsync("news@example.test", "editor@remote.test", true, None);

        await using var client = await GreetedAsync(server);
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<stranger@remote.test>")).Code);
        var refused = await client.CommandAsync("RCPT TO:<team@example.test>");
        Assert.Equal(550, refused.Code);
        Assert.Equal("5.7.1", refused.Enhanced.ToString());
        Assert.Equal(550, (await client.CommandAsync("RCPT TO:<news@example.test>")).Code);
        Assert.Equal(250, (await client.CommandAsync("RSET")).Code);
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<>")).Code);
        Assert.Equal(550, (await client.CommandAsync("RCPT TO:<team@example.test>")).Code);
        Assert.Equal(250, (await client.CommandAsync("RSET")).Code);

        await SendAsync(client, "alice@example.test", "team@example.test");
        await SendAsync(client, "Editor@Remote.test", "news@example.test");
        Assert.Equal(["alice@example.test", "bob@example.test"], (await store.ListMessagesAsync(null, None)).Select(d => d.Mailbox).Order());

        // An open list holding a restricted one does not open the restricted one to everybody.
        await store.AddListAsync("open@example.test", PostingPolicy.Anyone, None);
        await store.SetListMemberAsync("open@example.test", "news@example.test", true, None);
        await store.SetListMemberAsync("open@example.test", "alice@example.test", true, None);
        await SendAsync(client, "stranger@remote.test", "open@example.test");
        Assert.Equal(["alice@example.test", "alice@example.test", "bob@example.test"], (await store.ListMessagesAsync(null, None)).Select(d => d.Mailbox).Order());
    }

    [Fact]
    public async Task Many_stale_members_do_not_stop_a_nested_list_from_being_reached()
    {
        await using var server = await LoopbackServer.StartAsync();
        var store = server.Store;
        await store.AddListAsync("big@example.test", PostingPolicy.Anyone, None);
        await store.AddListAsync("zz-sub@example.test", PostingPolicy.Anyone, None);
        for (var i = 0; i < 120; i++)
        {
            await store.SetListMemberAsync("big@example.test", $"gone{i:D3}@example.test", true, None);
        }

        await store.SetListMemberAsync("big@example.test", "zz-sub@example.test", true, None);
        await store.SetListMemberAsync("zz-sub@example.test", "bob@example.test", true, None);
        await using var client = await GreetedAsync(server);
        await SendAsync(client, "boss@remote.test", "big@example.test");
        Assert.Equal("bob@example.test", Assert.Single(await store.ListMessagesAsync(null, None)).Mailbox);
    }

    [Theory]
    [InlineData(AddressDisclosure.Off, false, 252, 502)]
    [InlineData(AddressDisclosure.Off, true, 252, 502)]
    [InlineData(AddressDisclosure.Authenticated, false, 252, 502)]
    [InlineData(AddressDisclosure.Authenticated, true, 250, 250)]
    [InlineData(AddressDisclosure.Anyone, false, 250, 250)]
    public async Task Vrfy_and_expn_follow_the_policy(AddressDisclosure policy, bool logIn, int vrfy, int expn)
    {
        await using var server = await LoopbackServer.StartAsync(new SmtpServerOptions { VrfyExpn = policy, AllowPlaintextAuthOnLoopback = true }, auth: true);
        await server.Store.AddListAsync("staff@example.test", PostingPolicy.Anyone, None);
        await server.Store.SetListMemberAsync("staff@example.test", "alice@example.test", true, None);
        await server.Store.SetListMemberAsync("staff@example.test", "bob@example.test", true, None);
        await using var client = await GreetedAsync(server);
        if (logIn)
        {
            Assert.Equal(235, (await client.CommandAsync($"LOGN alice@example.test {LoopbackServer.Password}")).Code);
        }

        var verified = await client.CommandAsync("VRFY <Alice@Example.test>");
        Assert.Equal(vrfy, verified.Code);
        var expanded = await client.CommandAsync("EXPN staff@example.test");
        Assert.Equal(expn, expanded.Code);
        if (vrfy == 250)
        {
            Assert.Equal("<alice@example.test>", verified.Lines[0]);
            Assert.Equal(550, (await client.CommandAsync("VRFY nobody@example.test")).Code);
            Assert.Equal(["<alice@example.test>", "<bob@example.test>"], expanded.Lines);
            Assert.Equal(550, (await client.CommandAsync("EXPN alice@example.test")).Code);
        }
    }
}
