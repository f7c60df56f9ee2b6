using System.Text;
using Mailroom.Server;

namespace Mailroom.Client.Tests;

/// <summary>Transactions: SIZE, 8BITMIME, SMTPUTF8, BDAT, pipelining with partial failure.</summary>
public class SendTests
{
    private static readonly byte[] SevenBit = "Subject: plain\r\n\r\n.dot first\r\nbody\r\n"u8.ToArray();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(SmtpConnection Client, List<string> Sent)> ConnectAsync(TestServer server)
    {
        var sent = new List<string>();
        var options = new SmtpClientOptions { ClientName = "client.test", Tls = TlsMode.None, Trace = (s, l) => { if (!s) { sent.Add(l); } } };
        return (await SmtpConnection.ConnectAsync("127.0.0.1", server.Port, options, Ct), sent);
    }

    [Fact]
    public async Task A_message_over_size_is_refused_before_anything_is_sent()
    {
        await using var server = await TestServer.StartAsync(new SmtpServerOptions { MaxMessageSize = 100 });
        var (client, sent) = await ConnectAsync(server);
        await using var _ = client;
        Assert.Equal(100, client.MaxMessageSize);
        var before = sent.Count;
        var ex = await Assert.ThrowsAsync<MessageTooLargeException>(() => client.SendAsync("me@remote.test", [TestServer.Alice], new byte[101], Ct));
        Assert.Equal((101, 100), (ex.Size, ex.Limit));
        Assert.Equal(before, sent.Count);
        Assert.Equal(250, (await client.SendAsync("me@remote.test", [TestServer.Alice], SevenBit, Ct)).Reply.Code);
    }

    [Fact]
    public async Task A_7bit_message_goes_by_data_with_size_and_dot_stuffing()
    {
        await using var server = await TestServer.StartAsync();
        var (client, sent) = await ConnectAsync(server);
        await using var _ = client;
        var progress = new List<long>();
        await client.SendAsync("me@remote.test", [TestServer.Alice], new MemoryStream(SevenBit), SevenBit.Length, new SyncProgress(progress), Ct);
        Assert.Contains($"MAIL FROM:<me@remote.test> SIZE={SevenBit.Length}", sent);
        Assert.Contains("DATA", sent);
        Assert.DoesNotContain(sent, l => l.StartsWith("BDAT", StringComparison.Ordinal));
        Assert.Equal(SevenBit.Length, progress[^1]);
        Assert.EndsWith("\r\n\r\n.dot first\r\nbody\r\n", Encoding.UTF8.GetString(await server.StoredAsync(TestServer.Alice)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_8bit_message_gets_body_8bitmime_and_goes_by_bdat_byte_identical()
    {
        await using var server = await TestServer.StartAsync();
        var (client, sent) = await ConnectAsync(server);
        await using var _ = client;
        Assert.Contains("CHUNKING", client.Extensions);

        // Larger than one chunk, so BDAT is sent in several pieces; starts lines with dots, which BDAT must not stuff.
        var body = new StringBuilder("Subject: caf\u00e9\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
        for (var i = 0; body.Length < 150_000; i++)
        {
            body.Append(CultureInfoInvariant($".line {i} \u00e9t\u00e9\r\n"));
        }

        var message = Encoding.UTF8.GetBytes(body.ToString());
        await client.SendAsync("me@remote.test", [TestServer.Alice], new MemoryStream(message), message.Length, null, Ct);
        Assert.Contains(sent, l => l.StartsWith("MAIL FROM:<me@remote.test>", StringComparison.Ordinal) && l.EndsWith(" BODY=8BITMIME", StringComparison.Ordinal));
        Assert.True(sent.Count(l => l.StartsWith("BDAT ", StringComparison.Ordinal)) > 1);
        Assert.EndsWith(" LAST", sent.Last(l => l.StartsWith("BDAT ", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.DoesNotContain("DATA", sent);
        var stored = await server.StoredAsync(TestServer.Alice);
        Assert.Equal(message, stored[^message.Length..]);
    }

    private static string CultureInfoInvariant(FormattableString text) => text.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_utf8_address_gets_smtputf8()
    {
        await using var server = await TestServer.StartAsync();
        var (client, sent) = await ConnectAsync(server);
        await using var _ = client;
        await client.SendAsync("me@remote.test", ["用户@例子.测试"], SevenBit, Ct);
        Assert.Contains(sent, l => l.StartsWith("MAIL FROM:<me@remote.test>", StringComparison.Ordinal) && l.EndsWith(" SMTPUTF8", StringComparison.Ordinal));
        Assert.Single(await server.Store.ListMessagesAsync("用户@例子.测试", Ct));
    }

    [Fact]
    public async Task Without_smtputf8_or_8bitmime_the_message_is_refused_before_sending()
    {
        await using var fake = new FakeServer(async s =>
        {
            await s.SendAsync("220 fake ESMTP\n");
            await s.ReadLineAsync();
            await s.SendAsync("250-fake\n250 PIPELINING\n");
            await s.DrainAsync();
        });
        await using (var client = await SmtpConnection.ConnectAsync("127.0.0.1", fake.Port, new SmtpClientOptions { Tls = TlsMode.None }, Ct))
        {
            var utf8 = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync("me@remote.test", ["用户@例子.测试"], SevenBit, Ct));
            Assert.Contains("SMTPUTF8", utf8.Message, StringComparison.Ordinal);
            var eightBit = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync("me@remote.test", ["a@b.test"], "caf\u00e9\r\n"u8.ToArray(), Ct));
            Assert.Contains("8BITMIME", eightBit.Message, StringComparison.Ordinal);
        }

        await fake.Session;
        Assert.Single(fake.Received);
    }

    [Fact]
    public async Task A_refused_recipient_among_several_does_not_stop_the_rest()
    {
        await using var server = await TestServer.StartAsync();
        var (client, _) = await ConnectAsync(server);
        await using var __ = client;
        var result = await client.SendAsync("me@remote.test", [TestServer.Alice, "nobody@example.test", TestServer.Bob], SevenBit, Ct);
        var refused = Assert.Single(result.Refused);
        Assert.Equal(("nobody@example.test", 550), (refused.Recipient, refused.Reply.Code));
        Assert.Single(await server.Store.ListMessagesAsync(TestServer.Alice, Ct));
        Assert.Single(await server.Store.ListMessagesAsync(TestServer.Bob, Ct));
    }

    [Fact]
    public async Task Every_recipient_refused_means_rset_and_a_usable_connection()
    {
        await using var server = await TestServer.StartAsync();
        var (client, sent) = await ConnectAsync(server);
        await using var _ = client;
        var ex = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync("me@remote.test", ["x@elsewhere.test", "nobody@example.test"], SevenBit, Ct));
        Assert.Equal(550, ex.Reply!.Code);
        Assert.Equal("RSET", sent[^1]);
        Assert.Equal(250, (await client.SendAsync("me@remote.test", [TestServer.Alice], SevenBit, Ct)).Reply.Code);
        Assert.Single(await server.Store.ListMessagesAsync(null, Ct));
    }

    [Fact]
    public async Task Cr_or_lf_in_any_argument_is_refused_and_nothing_is_sent()
    {
        await using var server = await TestServer.StartAsync(tls: true, auth: true);
        var (client, sent) = await ConnectAsync(server);
        await using var _ = client;
        var before = sent.Count;
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync("me@remote.test>\r\nRCPT TO:<bob@example.test", [TestServer.Alice], SevenBit, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync("me@remote.test", [TestServer.Alice, "bob@example.test>\nRSET"], SevenBit, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => client.LogInAsync(TestServer.Alice, "pass\r\nNOOP", Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => client.AuthenticateAsync(TestServer.Alice, "pass\rword", Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => client.OpenMailboxAsync("INBOX\r\nDELE INBOX", Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => client.DeleteMailboxAsync("INBOX\n", Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => client.CommandAsync("NOOP\r\nRSET", Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => SmtpConnection.ConnectAsync("127.0.0.1", server.Port, new SmtpClientOptions { ClientName = "a\r\nMAIL FROM:<x@y>" }, Ct));
        Assert.Equal(before, sent.Count);

        // Nothing of the refused calls was left buffered: a RCPT now is out of sequence.
        Assert.Equal(503, (await client.CommandAsync("RCPT TO:<alice@example.test>", Ct)).Code);
    }

    private sealed class SyncProgress(List<long> reports) : IProgress<long>
    {
        public void Report(long value) => reports.Add(value);
    }

    /// <summary>SMTP smuggling: a bare LF before "." over DATA could end the message early at a lenient server.</summary>
    [Theory]
    [InlineData("Subject: x\r\n\r\nhi\n.\r\nMAIL FROM:<evil@x.test>\r\n")]
    [InlineData("Subject: x\r\n\r\nhi\r.\r\n")]
    public async Task A_bare_cr_or_lf_is_not_sent_with_data(string message)
    {
        await using var fake = new FakeServer(async s =>
        {
            await s.SendAsync("220 fake ESMTP\n");
            await s.ReadLineAsync();
            await s.SendAsync("250-fake\n250 PIPELINING\n");
            await s.DrainAsync();
        });
        await using (var client = await SmtpConnection.ConnectAsync("127.0.0.1", fake.Port, new SmtpClientOptions { Tls = TlsMode.None }, Ct))
        {
            var ex = await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync("me@remote.test", ["a@b.test"], System.Text.Encoding.ASCII.GetBytes(message), Ct));
            Assert.Contains("bare CR or LF", ex.Message, StringComparison.Ordinal);
        }

        await fake.Session;
        Assert.Single(fake.Received);
    }

    /// <summary>With CHUNKING the octets go by count, untouched, and the server judges them (ours refuses a bare LF: 554 5.6.0).</summary>
    [Fact]
    public async Task A_bare_lf_goes_by_bdat_when_the_server_offers_chunking()
    {
        await using var server = await TestServer.StartAsync();
        var (client, sent) = await ConnectAsync(server);
        await using (client)
        {
            var ex = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync("me@remote.test", [TestServer.Alice], "Subject: x\r\n\r\nhi\n.\r\n"u8.ToArray(), Ct));
            Assert.Equal(554, ex.Reply!.Code);
        }

        Assert.Contains(sent, l => l.StartsWith("BDAT ", StringComparison.Ordinal));
    }

    /// <summary>RFC 2920 3.1: a server that refuses MAIL but still answers the pipelined DATA with 354 is reading data; "." ends it.</summary>
    [Fact]
    public async Task A_refused_mail_with_a_354_for_data_is_ended_with_a_dot()
    {
        await using var fake = new FakeServer(async s =>
        {
            await s.SendAsync("220 fake ESMTP\n");
            await s.ReadLineAsync();
            await s.SendAsync("250-fake\n250 PIPELINING\n");
            await s.ReadLineAsync();
            await s.ReadLineAsync();
            await s.ReadLineAsync();
            await s.SendAsync("550 5.7.1 sender refused\n250 2.1.5 OK\n354 go ahead\n");
            var dot = await s.ReadLineAsync();
            await s.SendAsync(dot == "." ? "554 5.5.1 no valid recipients\n" : "500 5.5.1 out of step\n");
            while (await s.ReadLineAsync() is { } line)
            {
                await s.SendAsync(line == "NOOP" ? "250 2.0.0 OK\n" : "500 5.5.1 out of step\n");
            }
        });
        await using (var client = await SmtpConnection.ConnectAsync("127.0.0.1", fake.Port, new SmtpClientOptions { Tls = TlsMode.None }, Ct))
        {
            var ex = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync("me@remote.test", ["a@b.test"], SevenBit, Ct));
            Assert.Equal(550, ex.Reply!.Code);
            Assert.Equal(250, (await client.CommandAsync("NOOP", Ct)).Code);
        }

        await fake.Session;
        Assert.Equal(["MAIL FROM:<me@remote.test>", "RCPT TO:<a@b.test>", "DATA", ".", "NOOP"], fake.Received.Skip(1));
    }
}
