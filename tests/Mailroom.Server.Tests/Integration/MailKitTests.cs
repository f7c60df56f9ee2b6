using System.Text;
using MailKit;
using MailKit.Net.Smtp;
using MimeKit;

namespace Mailroom.Server.Tests.Integration;

/// <summary>MailKit's SmtpClient, an independent implementation, against the real server over loopback TCP.</summary>
public class MailKitTests
{
    private static MimeMessage Message(string to, string subject, string body, string from = "sender@remote.test")
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = body };
        return message;
    }

    private static async Task<(SmtpClient Client, MemoryStream Log)> ConnectAsync(LoopbackServer server, bool preferBdat = false)
    {
        var log = new MemoryStream();
        var client = preferBdat ? new BdatSmtpClient(new ProtocolLogger(log, leaveOpen: true)) : new SmtpClient(new ProtocolLogger(log, leaveOpen: true));
        await client.ConnectAsync("127.0.0.1", server.Port, MailKit.Security.SecureSocketOptions.None, TestContext.Current.CancellationToken);
        return (client, log);
    }

    private static string Transcript(MemoryStream log) => Encoding.UTF8.GetString(log.ToArray());

    [Fact]
    public async Task A_message_sent_by_mailkit_is_stored_and_its_id_is_in_the_reply()
    {
        await using var server = await LoopbackServer.StartAsync();
        var (client, _) = await ConnectAsync(server);
        using (client)
        {
            Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Pipelining));
            var response = await client.SendAsync(Message("alice@example.test", "Hello from MailKit", "First line\r\n.leading dot\r\n"), TestContext.Current.CancellationToken);
            await client.DisconnectAsync(true, TestContext.Current.CancellationToken);

            var summary = Assert.Single(await server.Store.ListMessagesAsync("alice@example.test", CancellationToken.None));
            Assert.Contains(summary.MessageId, response, StringComparison.Ordinal);
            Assert.Equal("Hello from MailKit", summary.Subject);
            using var stored = await server.Store.OpenMessageAsync(summary.MessageId, CancellationToken.None);
            using var raw = new MemoryStream();
            await stored!.CopyToAsync(raw, TestContext.Current.CancellationToken);
            raw.Position = 0;
            var parsed = await MimeMessage.LoadAsync(raw, TestContext.Current.CancellationToken);
            Assert.Equal("<sender@remote.test>", parsed.Headers[HeaderId.ReturnPath]);
            Assert.Contains("by mx.example.test (Mailroom)", parsed.Headers[HeaderId.Received], StringComparison.Ordinal);

            // MailKit stuffed the leading dot; the server took exactly one off again.
            Assert.EndsWith("\r\n\r\nFirst line\r\n.leading dot\r\n", Encoding.UTF8.GetString(raw.ToArray()), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Mailkit_pipelines_mail_rcpt_and_data_and_gets_every_reply()
    {
        await using var server = await LoopbackServer.StartAsync();
        var (client, log) = await ConnectAsync(server);
        using (client)
        {
            var message = Message("alice@example.test", "Pipelined", "body");
            message.To.Add(MailboxAddress.Parse("bob@example.test"));
            await client.SendAsync(message, TestContext.Current.CancellationToken);
            await client.DisconnectAsync(true, TestContext.Current.CancellationToken);
        }

        // With PIPELINING, MailKit writes MAIL and both RCPTs before it reads a reply.
        var transcript = Transcript(log);
        Assert.Matches(@"C: MAIL FROM:<sender@remote.test>[^\r\n]*\r\nC: RCPT TO:<alice@example.test>\r\nC: RCPT TO:<bob@example.test>", transcript);
        Assert.Equal(2, (await server.Store.ListMessagesAsync(null, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task Mailkit_uses_bdat_when_chunking_is_offered()
    {
        await using var server = await LoopbackServer.StartAsync();
        var (client, log) = await ConnectAsync(server, preferBdat: true);
        using (client)
        {
            var body = string.Concat(Enumerable.Range(0, 2000).Select(i => $"line {i}\r\n.{i}\r\n"));
            await client.SendAsync(Message("bob@example.test", "Chunked", body), TestContext.Current.CancellationToken);
            await client.DisconnectAsync(true, TestContext.Current.CancellationToken);
            Assert.Contains("C: BDAT ", Transcript(log), StringComparison.Ordinal);
            var summary = Assert.Single(await server.Store.ListMessagesAsync("bob@example.test", CancellationToken.None));
            using var stored = await server.Store.OpenMessageAsync(summary.MessageId, CancellationToken.None);
            Assert.Equal(body.ReplaceLineEndings("\n"), (await MimeMessage.LoadAsync(stored!, TestContext.Current.CancellationToken)).TextBody!.ReplaceLineEndings("\n"));
        }
    }

    [Fact]
    public async Task Mailkit_sends_to_an_international_address_with_smtputf8()
    {
        await using var server = await LoopbackServer.StartAsync();
        var (client, log) = await ConnectAsync(server);
        using (client)
        {
            Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.UTF8));
            await client.SendAsync(Message("用户@例子.测试", "Grüße 你好", "Unicode body: 世界", from: "发件人@remote.test"), TestContext.Current.CancellationToken);
            await client.DisconnectAsync(true, TestContext.Current.CancellationToken);
        }

        Assert.Contains("SMTPUTF8", Transcript(log), StringComparison.Ordinal);
        var summary = Assert.Single(await server.Store.ListMessagesAsync("用户@例子.测试", CancellationToken.None));
        Assert.Equal("Grüße 你好", summary.Subject);
        Assert.Equal("发件人@remote.test", summary.Sender);
    }

    [Fact]
    public async Task A_message_over_the_size_limit_is_refused_and_nothing_is_stored()
    {
        await using var server = await LoopbackServer.StartAsync(new SmtpServerOptions { MaxMessageSize = 10_000 });
        var (client, log) = await ConnectAsync(server);
        using (client)
        {
            Assert.Equal(10_000u, client.MaxSize);
            var ex = await Assert.ThrowsAnyAsync<Exception>(() => client.SendAsync(Message("alice@example.test", "Too big", new string('x', 20_000)), TestContext.Current.CancellationToken));
            Assert.True(ex is SmtpCommandException { StatusCode: SmtpStatusCode.ExceededStorageAllocation } || ex is SmtpCommandException { ErrorCode: SmtpErrorCode.MessageNotAccepted }, ex.ToString());

            // The session is still usable: a message within the limit goes through.
            await client.SendAsync(Message("alice@example.test", "Small", "fits"), TestContext.Current.CancellationToken);
            await client.DisconnectAsync(true, TestContext.Current.CancellationToken);
        }

        Assert.Equal("Small", Assert.Single(await server.Store.ListMessagesAsync(null, CancellationToken.None)).Subject);
    }

    [Fact]
    public async Task Unknown_users_and_foreign_domains_are_refused_by_rcpt()
    {
        await using var server = await LoopbackServer.StartAsync();
        var (client, _) = await ConnectAsync(server);
        using (client)
        {
            var unknown = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Message("nobody@example.test", "x", "x"), TestContext.Current.CancellationToken));
            Assert.Equal(SmtpStatusCode.MailboxUnavailable, unknown.StatusCode);
            var relay = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Message("someone@elsewhere.test", "x", "x"), TestContext.Current.CancellationToken));
            Assert.Equal(SmtpStatusCode.MailboxUnavailable, relay.StatusCode);
            Assert.Contains("Relaying denied", relay.Message, StringComparison.Ordinal);
        }

        Assert.Empty(await server.Store.ListMessagesAsync(null, CancellationToken.None));
    }

    /// <summary>MailKit sends with BDAT when CHUNKING is offered and the client prefers binary transfer.</summary>
    private sealed class BdatSmtpClient(IProtocolLogger logger) : SmtpClient(logger)
    {
        protected override bool PreferSendAsBinaryData => true;
    }
}
