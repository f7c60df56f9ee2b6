using System.Net.Security;
using System.Security.Authentication;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Mailroom.Server.Tests.Integration;

/// <summary>STARTTLS (RFC 3207) and implicit TLS (RFC 8314) with real TLS over loopback.</summary>
public class TlsTests
{
    private static MimeMessage Message(string subject)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("sender@remote.test"));
        message.To.Add(MailboxAddress.Parse("alice@example.test"));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = "over TLS" };
        return message;
    }

    private static async Task<string> StoredAsync(LoopbackServer server, string id)
    {
        await using var body = await server.Store.OpenMessageAsync(id, CancellationToken.None);
        using var reader = new StreamReader(body!);
        return await reader.ReadToEndAsync();
    }

    [Fact]
    public async Task Mailkit_sends_over_starttls_and_the_received_header_says_esmtps()
    {
        await using var server = await LoopbackServer.StartAsync(tls: true);
        using var client = server.PinnedMailKitClient();
        await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.StartTls, TestContext.Current.CancellationToken);
        Assert.True(client.IsSecure);
        Assert.True(client.SslProtocol is SslProtocols.Tls12 or SslProtocols.Tls13, client.SslProtocol.ToString());
        await client.SendAsync(Message("over starttls"), TestContext.Current.CancellationToken);
        await client.DisconnectAsync(true, TestContext.Current.CancellationToken);

        var summary = Assert.Single(await server.Store.ListMessagesAsync(null, CancellationToken.None));
        Assert.Contains(" with ESMTPS id ", await StoredAsync(server, summary.MessageId), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mailkit_sends_over_implicit_tls()
    {
        await using var server = await LoopbackServer.StartAsync(role: ListenerRole.Submissions, auth: true);
        using var client = server.PinnedMailKitClient();
        await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.SslOnConnect, TestContext.Current.CancellationToken);
        Assert.True(client.IsSecure);
        Assert.False(client.Capabilities.HasFlag(SmtpCapabilities.StartTLS));
        await client.AuthenticateAsync("alice@example.test", LoopbackServer.Password, TestContext.Current.CancellationToken);
        var message = Message("over implicit tls");
        message.From.Clear();
        message.From.Add(MailboxAddress.Parse("alice@example.test"));
        await client.SendAsync(message, TestContext.Current.CancellationToken);
        await client.DisconnectAsync(true, TestContext.Current.CancellationToken);
        Assert.Equal("over implicit tls", Assert.Single(await server.Store.ListMessagesAsync(null, CancellationToken.None)).Subject);
    }

    [Fact]
    public async Task After_starttls_the_session_starts_over_and_ehlo_no_longer_offers_starttls()
    {
        await using var server = await LoopbackServer.StartAsync(tls: true);
        await using var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.Contains("STARTTLS", (await client.CommandAsync("EHLO plain.test")).Lines);
        Assert.Equal(501, (await client.CommandAsync("STARTTLS now")).Code);
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<s@remote.test>")).Code);
        Assert.Equal(503, (await client.CommandAsync("STARTTLS")).Code);
        Assert.Equal(250, (await client.CommandAsync("RSET")).Code);
        Assert.Equal(220, (await client.CommandAsync("STARTTLS")).Code);
        await client.StartTlsAsync(server.Certificates!.Fingerprint);

        // RFC 3207 4.2: the greeting and everything learnt before TLS are forgotten.
        Assert.Equal(503, (await client.CommandAsync("MAIL FROM:<s@remote.test>")).Code);
        var ehlo = await client.CommandAsync("EHLO secure.test");
        Assert.DoesNotContain("STARTTLS", ehlo.Lines);
        Assert.Contains("PIPELINING", ehlo.Lines);
        Assert.Equal(503, (await client.CommandAsync("STARTTLS")).Code);
    }

    /// <summary>
    /// CVE-2011-0411, "STARTTLS command injection": commands a man in the middle appends behind
    /// STARTTLS, in clear, must not run inside the TLS session.
    /// </summary>
    [Fact]
    public async Task Starttls_command_injection_plaintext_behind_starttls_is_discarded()
    {
        await using var server = await LoopbackServer.StartAsync(tls: true);
        await using var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.Equal(250, (await client.CommandAsync("EHLO plain.test")).Code);
        await client.SendAsync("STARTTLS\r\nHELP\r\nEHLO injected.test\r\nMAIL FROM:<injected@remote.test>\r\n");
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        await client.StartTlsAsync(server.Certificates!.Fingerprint);

        // Had the injected lines run, their replies (214, 250, 250) would come first, and RCPT would be accepted.
        Assert.Equal(503, (await client.CommandAsync("RCPT TO:<alice@example.test>")).Code);
        var ehlo = await client.CommandAsync("EHLO real.test");
        Assert.Equal("mx.example.test greets real.test", ehlo.Lines[0]);
    }

    [Fact]
    public async Task Starttls_is_not_offered_without_a_certificate()
    {
        await using var server = await LoopbackServer.StartAsync();
        await using var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.DoesNotContain("STARTTLS", (await client.CommandAsync("EHLO plain.test")).Lines);
        var reply = await client.CommandAsync("STARTTLS");
        Assert.Equal(454, reply.Code);
        Assert.Equal("4.7.0", reply.Enhanced.ToString());
        Assert.Equal(250, (await client.CommandAsync("NOOP")).Code);
    }

    [Fact]
    public async Task A_tls_handshake_that_never_comes_is_dropped_on_time()
    {
        await using var server = await LoopbackServer.StartAsync(new SmtpServerOptions { TlsHandshakeTimeout = TimeSpan.FromMilliseconds(300) }, role: ListenerRole.Submissions);
        await using var client = await RawClient.ConnectAsync(server.Endpoint);

        // No ClientHello: the server gives up and closes; no plaintext greeting ever comes.
        Assert.Null(await client.ReadReplyAsync());
    }

    [Fact]
    public async Task A_garbage_handshake_on_the_implicit_port_is_dropped_and_the_server_goes_on()
    {
        await using var server = await LoopbackServer.StartAsync(role: ListenerRole.Submissions);
        await using (var garbage = await RawClient.ConnectAsync(server.Endpoint))
        {
            await garbage.SendAsync("EHLO this is not a ClientHello\r\n");
            Assert.Null(await garbage.ReadReplyAsync());
        }

        using var client = server.PinnedMailKitClient();
        await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.SslOnConnect, TestContext.Current.CancellationToken);
        await client.NoOpAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// RFC 3207 4.2: after the handshake the server "MUST discard any knowledge obtained from the
    /// client". A log-in made in clear (allowed on loopback) and the mailbox it opened are such
    /// knowledge: whoever spoke before the handshake need not be who speaks after it.
    /// </summary>
    [Fact]
    public async Task A_login_and_an_open_mailbox_do_not_survive_starttls()
    {
        const string Alice = "alice@example.test";
        var options = new SmtpServerOptions { AllowPlaintextAuthOnLoopback = true, MailboxCommandsOnMx = true };
        await using var server = await LoopbackServer.StartAsync(options, tls: true, auth: true);
        await using var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.Equal(250, (await client.CommandAsync("EHLO local.tool")).Code);
        Assert.Equal(235, (await client.CommandAsync($"LOGN {Alice} {LoopbackServer.Password}")).Code);
        Assert.Equal(250, (await client.CommandAsync("READ INBOX")).Code);
        Assert.Equal(250, (await client.CommandAsync("LIST")).Code);

        Assert.Equal(220, (await client.CommandAsync("STARTTLS")).Code);
        await client.StartTlsAsync(server.Certificates!.Fingerprint);
        Assert.Equal(250, (await client.CommandAsync("EHLO local.tool")).Code);

        var list = await client.CommandAsync("LIST");
        Assert.True(list.Code == 530 && list.Enhanced.ToString() == "5.7.0", $"LIST after STARTTLS got {list}");
        var read = await client.CommandAsync("READ INBOX");
        Assert.True(read.Code == 530 && read.Enhanced.ToString() == "5.7.0", $"READ after STARTTLS got {read}");

        // A new log-in is accepted (not 503 "already logged in"), and finds no mailbox open.
        Assert.Equal(235, (await client.CommandAsync($"LOGN {Alice} {LoopbackServer.Password}")).Code);
        var again = await client.CommandAsync("LIST");
        Assert.True(again.Code == 503 && again.Enhanced.ToString() == "5.5.1", $"LIST after a new log-in got {again}");
    }
}
