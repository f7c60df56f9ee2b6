using System.Globalization;
using System.Text;
using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;

namespace Mailroom.Server.Tests.Integration;

/// <summary>The original design's mailbox commands, end to end over real TCP, as a telnet user would type them.</summary>
public class MailboxCommandTests
{
    private const string Alice = "alice@example.test";

    private static SmtpServerOptions Options() => new() { AllowPlaintextAuthOnLoopback = true, MailboxCommandsOnMx = true };

    /// <summary>Delivers raw bytes straight into a mailbox, as the receiver would have stored them.</summary>
    private static async Task<string> StoreAsync(LoopbackServer server, string address, byte[] body)
    {
        var mailbox = (await server.Store.FindMailboxAsync(address, CancellationToken.None))!;
        var id = MessageIds.New();
        await using var writer = await server.Store.BeginMessageAsync(new MessageEnvelope(id, "sender@remote.test", [new EnvelopeRecipient(mailbox, address)], DateTimeOffset.UtcNow), CancellationToken.None);
        await writer.WriteAsync(body, CancellationToken.None);
        await writer.CommitAsync(CancellationToken.None);
        return id;
    }

    private static async Task<RawClient> LoggedInAsync(LoopbackServer server, string user = Alice)
    {
        var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.Contains("XMAILBOX", (await client.CommandAsync("EHLO telnet.user")).Lines);
        Assert.Equal(235, (await client.CommandAsync($"LOGN {user} {LoopbackServer.Password}")).Code);
        return client;
    }

    /// <summary>NEXT or PREV: the reply line, then exactly the octets it announces.</summary>
    private static async Task<(string[] Words, byte[] Body)> MessageAsync(RawClient client, string command)
    {
        var reply = await client.CommandAsync(command);
        Assert.True(reply.Code == 250, reply.ToString());
        var words = reply.Lines[0].Split(' ');
        var body = await client.ReadBytesAsync(long.Parse(words[2], CultureInfo.InvariantCulture));
        return (words, body);
    }

    [Fact]
    public async Task Read_page_flag_list_delete_and_log_out_with_bodies_that_look_like_protocol()
    {
        await using var server = await LoopbackServer.StartAsync(Options(), auth: true);
        byte[][] bodies =
        [
            Encoding.ASCII.GetBytes("Subject: one\r\n\r\nfirst\r\n.\r\n250 2.0.0 OK: queued as FAKE\r\n"),
            [.. "Subject: two\r\n\r\nbare\nLF and bare\rCR and 8-bit: "u8.ToArray(), 0xC3, 0xA9, 0xFF, 0x00, .. "\r\n.\r\n"u8.ToArray()],
            Encoding.ASCII.GetBytes("Subject: three\r\n\r\nno final newline"),
        ];
        var ids = new List<string>();
        foreach (var body in bodies)
        {
            ids.Add(await StoreAsync(server, Alice, body));
        }

        await using var client = await LoggedInAsync(server);
        Assert.Equal("INBOX open: 3 message(s), 3 unread", (await client.CommandAsync("READ INBOX")).Lines[0]);

        for (var i = 0; i < 3; i++)
        {
            var (words, body) = await MessageAsync(client, "NEXT");
            Assert.Equal((i + 1).ToString(CultureInfo.InvariantCulture), words[0]);
            Assert.Equal(ids[i], words[1]);
            Assert.Equal(bodies[i], body);
            Assert.EndsWith("flags read", string.Join(' ', words), StringComparison.Ordinal);
        }

        // The framing held: the next thing on the wire is a reply, not a piece of a message.
        Assert.Equal(550, (await client.CommandAsync("NEXT")).Code);
        var (back, _) = await MessageAsync(client, "PREV");
        Assert.Equal(ids[1], back[1]);

        Assert.Equal($"Message {ids[1]}: flags read,important", (await client.CommandAsync("FLAG important")).Lines[0]);
        Assert.Equal($"Message {ids[1]}: flags important", (await client.CommandAsync("FLAG read off")).Lines[0]);

        var list = await client.CommandAsync("LIST");
        Assert.Equal("3 message(s)", list.Lines[0]);
        Assert.Matches($@"^2 {ids[1]} \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ \d+ important <sender@remote.test> two$", list.Lines[2]);

        Assert.Equal("1 message(s) moved to the trash", (await client.CommandAsync("DELE")).Lines[0]);
        Assert.Equal("2 message(s)", (await client.CommandAsync("LIST")).Lines[0]);
        Assert.Equal("2 message(s) moved to the trash", (await client.CommandAsync("DELE INBOX")).Lines[0]);
        Assert.Equal(["0 message(s)"], (await client.CommandAsync("LIST")).Lines);

        // DELE is not for ever: the administrator can bring it all back.
        var inbox = (await server.Store.FindMailboxAsync(Alice, CancellationToken.None))!;
        Assert.Equal(3, await server.Store.RestoreAsync(inbox.Id, CancellationToken.None));
        Assert.Equal("3 message(s)", (await client.CommandAsync("LIST")).Lines[0]);

        Assert.Equal(250, (await client.CommandAsync("RTRN")).Code);
        Assert.Equal(530, (await client.CommandAsync("READ INBOX")).Code);
    }

    [Fact]
    public async Task Refusals_come_from_the_catalogue_and_reveal_nothing()
    {
        await using (var mx = await LoopbackServer.StartAsync(new SmtpServerOptions { AllowPlaintextAuthOnLoopback = true }, auth: true))
        {
            await using var plain = await RawClient.ConnectAsync(mx.Endpoint);
            Assert.Equal(220, (await plain.ReadReplyAsync())!.Code);
            Assert.DoesNotContain("XMAILBOX", (await plain.CommandAsync("EHLO telnet.user")).Lines);
            Assert.Equal(502, (await plain.CommandAsync("READ INBOX")).Code);
        }

        await using var server = await LoopbackServer.StartAsync(Options(), auth: true);
        await using var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.Equal(250, (await client.CommandAsync("EHLO telnet.user")).Code);
        Assert.Equal("5.7.0", (await client.CommandAsync("READ INBOX")).Enhanced.ToString());
        Assert.Equal(235, (await client.CommandAsync($"LOGN {Alice} {LoopbackServer.Password}")).Code);
        Assert.Equal(503, (await client.CommandAsync("NEXT")).Code);
        var other = await client.CommandAsync("READ bob@example.test");
        var missing = await client.CommandAsync("READ nobody@example.test");
        Assert.Equal(550, other.Code);
        Assert.Equal("5.1.1", other.Enhanced.ToString());
        Assert.Equal(other.ToString().Replace("bob@", "nobody@", StringComparison.Ordinal), missing.ToString());
        Assert.Equal(550, (await client.CommandAsync("DELE bob@example.test")).Code);
        Assert.Equal(250, (await client.CommandAsync("READ " + Alice)).Code);
        Assert.Equal(503, (await client.CommandAsync("FLAG read")).Code);
        Assert.Equal(501, (await client.CommandAsync("FLAG urgent")).Code);
        Assert.Equal(550, (await client.CommandAsync("NEXT")).Code);
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<alice@example.test>")).Code);
        Assert.Equal(503, (await client.CommandAsync("LIST")).Code);
    }

    [Fact]
    public async Task Two_sessions_on_one_mailbox_see_each_others_deletions()
    {
        await using var server = await LoopbackServer.StartAsync(Options(), auth: true);
        var first = await StoreAsync(server, Alice, Encoding.ASCII.GetBytes("Subject: a\r\n\r\na\r\n"));
        var second = await StoreAsync(server, Alice, Encoding.ASCII.GetBytes("Subject: b\r\n\r\nb\r\n"));
        await using var one = await LoggedInAsync(server);
        await using var two = await LoggedInAsync(server);
        Assert.Equal(250, (await one.CommandAsync("READ INBOX")).Code);
        Assert.Equal(250, (await two.CommandAsync("READ INBOX")).Code);
        Assert.Equal(first, (await MessageAsync(one, "NEXT")).Words[1]);
        Assert.Equal(first, (await MessageAsync(two, "NEXT")).Words[1]);

        // Session two deletes the message session one has as current.
        Assert.Equal(250, (await two.CommandAsync("DELE")).Code);
        Assert.Equal(550, (await one.CommandAsync("FLAG important")).Code);
        Assert.Equal(550, (await one.CommandAsync("DELE")).Code);
        var (words, _) = await MessageAsync(one, "NEXT");
        Assert.Equal(second, words[1]);
        Assert.Equal("1", words[0]);
        Assert.Equal("1 message(s)", (await one.CommandAsync("LIST")).Lines[0]);
    }

    /// <summary>
    /// The rights matrix on a shared mailbox: alice may read (r), bob may read, mark and delete
    /// (rmd). Read state is per user: alice reading a message leaves it unread for bob.
    /// </summary>
    [Fact]
    public async Task A_shared_mailbox_honours_each_users_rights_and_keeps_read_state_per_user()
    {
        await using var server = await LoopbackServer.StartAsync(Options(), auth: true);
        var store = server.Store;
        var support = await store.AddSharedMailboxAsync("support@example.test", CancellationToken.None);
        var aliceId = (await store.FindAccountAsync(Alice, CancellationToken.None))!.Id;
        var bobId = (await store.FindAccountAsync("bob@example.test", CancellationToken.None))!.Id;
        await store.SetRightsAsync(support.Id, aliceId, MailboxRights.Read, CancellationToken.None);
        await store.SetRightsAsync(support.Id, bobId, MailboxRights.Read | MailboxRights.Mark | MailboxRights.Delete, CancellationToken.None);

        // Mail for support@ arrives over SMTP like mail for anyone.
        await using (var sender = await RawClient.ConnectAsync(server.Endpoint))
        {
            Assert.Equal(220, (await sender.ReadReplyAsync())!.Code);
            Assert.Equal(250, (await sender.CommandAsync("EHLO customer.test")).Code);
            Assert.Equal(250, (await sender.CommandAsync("MAIL FROM:<customer@remote.test>")).Code);
            Assert.Equal(250, (await sender.CommandAsync("RCPT TO:<support@example.test>")).Code);
            Assert.Equal(354, (await sender.CommandAsync("DATA")).Code);
            Assert.Equal(250, (await sender.CommandAsync("Subject: help\r\n\r\nplease\r\n.")).Code);
        }

        await using var alice = await LoggedInAsync(server);
        Assert.Equal("support@example.test open: 1 message(s), 1 unread", (await alice.CommandAsync("READ support@example.test")).Lines[0]);
        await MessageAsync(alice, "NEXT");
        var flag = await alice.CommandAsync("FLAG important");
        Assert.Equal(550, flag.Code);
        Assert.Equal("5.7.1", flag.Enhanced.ToString());
        Assert.Equal(550, (await alice.CommandAsync("DELE")).Code);
        Assert.Equal(550, (await alice.CommandAsync("DELE support@example.test")).Code);

        await using var bob = await LoggedInAsync(server, "bob@example.test");
        Assert.Equal("support@example.test open: 1 message(s), 1 unread", (await bob.CommandAsync("READ support@example.test")).Lines[0]);
        await MessageAsync(bob, "NEXT");
        Assert.Equal(250, (await bob.CommandAsync("FLAG important")).Code);
        // Bob's "important" is his own: alice still sees the message as read by her and nothing more.
        Assert.Contains(" read <customer@remote.test> help", (await alice.CommandAsync("LIST")).Lines[1], StringComparison.Ordinal);
        Assert.Equal("1 message(s) moved to the trash", (await bob.CommandAsync("DELE")).Lines[0]);
        Assert.Equal("0 message(s)", (await alice.CommandAsync("LIST")).Lines[0]);

        // A right revoked while the mailbox is open counts at the next command: the mailbox closes,
        // and without the read right it is invisible, as if it did not exist.
        await store.SetRightsAsync(support.Id, aliceId, MailboxRights.None, CancellationToken.None);
        Assert.Equal("5.1.1", (await alice.CommandAsync("LIST")).Enhanced.ToString());
        Assert.Equal(503, (await alice.CommandAsync("NEXT")).Code);
        Assert.Equal("5.1.1", (await alice.CommandAsync("READ support@example.test")).Enhanced.ToString());
    }
}
