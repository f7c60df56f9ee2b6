using Mailroom.Server;

namespace Mailroom.Client.Tests;

/// <summary>STARTTLS (RFC 3207) and implicit TLS (RFC 8314) with a pinned self-signed certificate, and never a silent fall back to plaintext.</summary>
public class TlsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Starttls_with_the_pin_then_ehlo_again_without_starttls()
    {
        await using var server = await TestServer.StartAsync(tls: true);
        var trace = new List<(bool, string)>();
        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", server.Port, server.Pinned() with { Trace = (s, l) => trace.Add((s, l)) }, Ct);
        Assert.True(client.IsTls);
        Assert.StartsWith("TLS 1.", client.TlsDescription, StringComparison.Ordinal);
        Assert.DoesNotContain("STARTTLS", client.Extensions);
        Assert.Equal(2, trace.Count(t => !t.Item1 && t.Item2.StartsWith("EHLO ", StringComparison.Ordinal)));
        await client.SendAsync("me@remote.test", [TestServer.Alice], "Subject: tls\r\n\r\nhi\r\n"u8.ToArray(), Ct);
        await client.QuitAsync(Ct);
        Assert.Single(await server.Store.ListMessagesAsync(TestServer.Alice, Ct));
    }

    [Fact]
    public async Task Pin_in_lower_case_with_colons_is_the_same_pin()
    {
        await using var server = await TestServer.StartAsync(tls: true);
        var fingerprint = server.Certificates!.Fingerprint;
        var colons = string.Join(':', Enumerable.Range(0, fingerprint.Length / 2).Select(i => fingerprint.Substring(i * 2, 2))).ToLowerInvariant();
        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", server.Port, server.Pinned() with { PinnedCertificateSha256 = colons }, Ct);
        Assert.True(client.IsTls);
    }

    [Fact]
    public async Task A_wrong_pin_fails_the_handshake()
    {
        await using var server = await TestServer.StartAsync(tls: true);
        var options = server.Pinned() with { PinnedCertificateSha256 = new string('A', 64) };
        var ex = await Assert.ThrowsAsync<SmtpSecurityException>(() => SmtpConnection.ConnectAsync("127.0.0.1", server.Port, options, Ct));
        Assert.IsType<System.Security.Authentication.AuthenticationException>(ex.InnerException, exactMatch: false);
        Assert.Empty(await server.Store.ListMessagesAsync(null, Ct));
    }

    [Fact]
    public async Task A_self_signed_certificate_without_a_pin_does_not_validate()
    {
        await using var server = await TestServer.StartAsync(tls: true);
        var options = server.Pinned() with { PinnedCertificateSha256 = null, TlsHost = "mx.example.test" };
        var ex = await Assert.ThrowsAsync<SmtpSecurityException>(() => SmtpConnection.ConnectAsync("127.0.0.1", server.Port, options, Ct));
        Assert.Contains("TLS", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Implicit_tls_on_the_submissions_listener()
    {
        await using var server = await TestServer.StartAsync(role: ListenerRole.Submissions, auth: true);
        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", server.Port, server.Pinned(TlsMode.Implicit), Ct);
        Assert.True(client.IsTls);
        Assert.Contains("AUTH", client.Extensions);
        await client.AuthenticateAsync(TestServer.Alice, TestServer.Password, Ct);
        Assert.Equal(TestServer.Alice, client.AuthenticatedUser);
    }

    [Fact]
    public async Task Tls_required_but_not_offered_fails_before_anything_but_ehlo_is_sent()
    {
        await using var server = await TestServer.StartAsync();
        var sent = new List<string>();
        var options = new SmtpClientOptions { Tls = TlsMode.StartTls, Trace = (fromServer, line) => { if (!fromServer) { sent.Add(line); } } };
        await Assert.ThrowsAsync<SmtpSecurityException>(() => SmtpConnection.ConnectAsync("127.0.0.1", server.Port, options, Ct));
        Assert.Equal(["EHLO localhost"], sent);
    }

    [Fact]
    public async Task Auto_stays_plain_only_when_starttls_is_not_offered()
    {
        await using var plain = await TestServer.StartAsync(auth: true);
        await using (var client = await SmtpConnection.ConnectAsync("127.0.0.1", plain.Port, new SmtpClientOptions(), Ct))
        {
            Assert.False(client.IsTls);

            // Plain in Auto is for sending only: credentials wait for TLS or an explicit TlsMode.None.
            await Assert.ThrowsAsync<SmtpSecurityException>(() => client.AuthenticateAsync(TestServer.Alice, TestServer.Password, Ct));
            await Assert.ThrowsAsync<SmtpSecurityException>(() => client.LogInAsync(TestServer.Alice, TestServer.Password, Ct));
        }

        await using var tls = await TestServer.StartAsync(tls: true);
        await using var secure = await SmtpConnection.ConnectAsync("127.0.0.1", tls.Port, tls.Pinned(TlsMode.Auto), Ct);
        Assert.True(secure.IsTls);
    }

    [Fact]
    public async Task Auto_with_a_pin_refuses_a_stripped_starttls()
    {
        await using var plain = await TestServer.StartAsync();
        var options = new SmtpClientOptions { Tls = TlsMode.Auto, PinnedCertificateSha256 = new string('A', 64) };
        await Assert.ThrowsAsync<SmtpSecurityException>(() => SmtpConnection.ConnectAsync("127.0.0.1", plain.Port, options, Ct));
    }

    [Fact]
    public async Task Stripped_starttls_in_auto_sends_no_password_in_clear()
    {
        // A man in the middle removes STARTTLS from EHLO and offers PLAIN, hoping for the password (RFC 3207 6).
        await using var fake = new FakeServer(async s =>
        {
            await s.SendAsync("220 fake ESMTP\n");
            await s.ReadLineAsync();
            await s.SendAsync("250-fake\n250 AUTH PLAIN LOGIN\n");
            while (await s.ReadLineAsync() is { } line)
            {
                await s.SendAsync(line.StartsWith("AUTH LOGIN", StringComparison.Ordinal) ? "334 VXNlcm5hbWU6\n" : "235 2.7.0 Authentication succeeded\n");
            }
        });
        await using (var client = await SmtpConnection.ConnectAsync("127.0.0.1", fake.Port, new SmtpClientOptions(), Ct))
        {
            Assert.False(client.IsTls);
            await Assert.ThrowsAsync<SmtpSecurityException>(() => client.AuthenticateAsync(TestServer.Alice, "secret", Ct));
            await Assert.ThrowsAsync<SmtpSecurityException>(() => client.LogInAsync(TestServer.Alice, "secret", Ct));
            Assert.Null(client.AuthenticatedUser);
        }

        await fake.Session;
        Assert.Equal(["EHLO localhost"], fake.Received);
    }

    [Fact]
    public async Task A_refused_starttls_is_a_security_failure()
    {
        await using var fake = new FakeServer(async s =>
        {
            await s.SendAsync("220 fake ESMTP\n");
            await s.ReadLineAsync();
            await s.SendAsync("250-fake\n250 STARTTLS\n");
            await s.ReadLineAsync();
            await s.SendAsync("454 4.7.0 TLS not available\n");
            await s.DrainAsync();
        });
        await Assert.ThrowsAsync<SmtpSecurityException>(() => SmtpConnection.ConnectAsync("127.0.0.1", fake.Port, new SmtpClientOptions { Tls = TlsMode.StartTls }, Ct));
    }
}
