using System.Net;
using System.Net.Sockets;
using Mailroom.Server;

namespace Mailroom.Client.Tests;

/// <summary>Timeouts, cancellation, broken connections and XCAESAR.</summary>
public class ConnectionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_server_that_never_answers_times_out_with_a_protocol_error()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepting = listener.AcceptTcpClientAsync(Ct).AsTask();
        var options = new SmtpClientOptions { Tls = TlsMode.None, CommandTimeout = TimeSpan.FromMilliseconds(300) };
        var ex = await Assert.ThrowsAsync<SmtpProtocolException>(() => SmtpConnection.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port, options, Ct));
        Assert.Contains("Timed out", ex.Message, StringComparison.Ordinal);
        using var silent = await accepting;
    }

    [Fact]
    public async Task A_timeout_mid_session_leaves_the_connection_unusable()
    {
        await using var fake = new FakeServer(async s =>
        {
            await s.SendAsync("220 fake ESMTP\n");
            await s.ReadLineAsync();
            await s.SendAsync("250 fake\n");
            await s.DrainAsync();
        });

        // The timeout covers the greeting and EHLO too, so it leaves room for a loaded machine.
        var options = new SmtpClientOptions { Tls = TlsMode.None, CommandTimeout = TimeSpan.FromSeconds(2) };
        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", fake.Port, options, Ct);
        await Assert.ThrowsAsync<SmtpProtocolException>(() => client.CommandAsync("NOOP", Ct));
        await Assert.ThrowsAsync<SmtpProtocolException>(() => client.CommandAsync("NOOP", Ct));
    }

    [Fact]
    public async Task A_closed_connection_is_a_protocol_error()
    {
        await using var fake = new FakeServer(async s =>
        {
            await s.SendAsync("220 fake ESMTP\n");
            await s.ReadLineAsync();
            await s.SendAsync("250 fake\n");
            await s.ReadLineAsync();
        });
        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", fake.Port, new SmtpClientOptions { Tls = TlsMode.None }, Ct);
        var noop = client.CommandAsync("NOOP", Ct);
        await fake.Session; // the script ends and the server's end of the connection is closed
        await Assert.ThrowsAsync<SmtpProtocolException>(() => noop);
    }

    [Fact]
    public async Task Ehlo_refused_falls_back_to_helo()
    {
        await using var fake = new FakeServer(async s =>
        {
            await s.SendAsync("220 old server\n");
            await s.ReadLineAsync();
            await s.SendAsync("502 what is EHLO\n");
            await s.ReadLineAsync();
            await s.SendAsync("250 hello\n");
            await s.DrainAsync();
        });
        await using (var client = await SmtpConnection.ConnectAsync("127.0.0.1", fake.Port, new SmtpClientOptions { ClientName = "old.client", Tls = TlsMode.None }, Ct))
        {
            Assert.Empty(client.Extensions);
        }

        await fake.Session;
        Assert.Equal(["EHLO old.client", "HELO old.client"], fake.Received);
    }

    [Fact]
    public async Task Caesar_when_offered_and_the_session_works_through_it()
    {
        await using var server = await TestServer.StartAsync(new SmtpServerOptions { AllowCaesarObfuscation = true });
        var options = new SmtpClientOptions { Tls = TlsMode.Auto, CaesarShift = 3 };
        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", server.Port, options, Ct);
        Assert.Equal(250, (await client.CommandAsync("NOOP", Ct)).Code);
        await client.SendAsync("me@remote.test", [TestServer.Alice], "Subject: shifted\r\n\r\nhi\r\n"u8.ToArray(), Ct);
        Assert.EndsWith("\r\n\r\nhi\r\n", System.Text.Encoding.UTF8.GetString(await server.StoredAsync(TestServer.Alice)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Caesar_asked_for_but_not_offered_is_a_protocol_error()
    {
        await using var server = await TestServer.StartAsync();
        var options = new SmtpClientOptions { Tls = TlsMode.None, CaesarShift = 3 };
        await Assert.ThrowsAsync<SmtpProtocolException>(() => SmtpConnection.ConnectAsync("127.0.0.1", server.Port, options, Ct));
    }

    [Fact]
    public async Task Cancellation_is_honoured_and_leaves_the_connection_unusable()
    {
        await using var fake = new FakeServer(async s =>
        {
            await s.SendAsync("220 fake ESMTP\n");
            await s.ReadLineAsync();
            await s.SendAsync("250 fake\n");
            await s.DrainAsync();
        });
        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", fake.Port, new SmtpClientOptions { Tls = TlsMode.None }, Ct);
        using var cancel = new CancellationTokenSource();
        var noop = client.CommandAsync("NOOP", cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => noop);
        await Assert.ThrowsAsync<SmtpProtocolException>(() => client.CommandAsync("NOOP", Ct));
    }

    /// <summary>CVE-2011-0411 the other way round: a reply sent in clear behind the 220 must not be read as if it came through TLS.</summary>
    [Fact]
    public async Task Plaintext_behind_the_starttls_220_is_refused()
    {
        await using var fake = new FakeServer(async s =>
        {
            await s.SendAsync("220 fake ESMTP\n");
            await s.ReadLineAsync();
            await s.SendAsync("250-fake\n250 STARTTLS\n");
            await s.ReadLineAsync();
            await s.SendAsync("220 2.0.0 go ahead\n250 2.0.0 injected\n");
            await s.DrainAsync();
        });
        var options = new SmtpClientOptions { Tls = TlsMode.StartTls, PinnedCertificateSha256 = new string('0', 64) };
        var ex = await Assert.ThrowsAsync<SmtpProtocolException>(() => SmtpConnection.ConnectAsync("127.0.0.1", fake.Port, options, Ct));
        Assert.Contains("CVE-2011-0411", ex.Message, StringComparison.Ordinal);
    }
}
