using Mailroom.Server;

namespace Mailroom.Client.Tests;

/// <summary>AUTH (RFC 4954): the strongest mechanism offered, secrets kept out of the trace, refusals that leave the connection usable.</summary>
public class AuthTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Scram_sha_256_is_chosen_and_verified_and_no_secret_is_traced()
    {
        await using var server = await TestServer.StartAsync(role: ListenerRole.Submission, auth: true);
        var trace = new List<string>();
        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", server.Port, server.Pinned() with { Trace = (_, l) => trace.Add(l) }, Ct);
        await client.AuthenticateAsync(TestServer.Alice, TestServer.Password, Ct);
        Assert.Contains("AUTH SCRAM-SHA-256 <redacted>", trace);
        Assert.DoesNotContain(trace, l => l.Contains(TestServer.Password, StringComparison.Ordinal));
        var result = await client.SendAsync(TestServer.Alice, [TestServer.Bob], "Subject: after auth\r\n\r\nhi\r\n"u8.ToArray(), Ct);
        Assert.Equal(250, result.Reply.Code);
    }

    [Fact]
    public async Task A_wrong_password_is_a_command_error_and_the_connection_still_works()
    {
        await using var server = await TestServer.StartAsync(role: ListenerRole.Submission, auth: true);
        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", server.Port, server.Pinned(), Ct);
        var ex = await Assert.ThrowsAsync<SmtpCommandException>(() => client.AuthenticateAsync(TestServer.Alice, "not the password", Ct));
        Assert.Equal(535, ex.Reply!.Code);
        Assert.Null(client.AuthenticatedUser);
        await client.AuthenticateAsync(TestServer.Alice, TestServer.Password, Ct);
        Assert.Equal(TestServer.Alice, client.AuthenticatedUser);
    }

    [Fact]
    public async Task Auth_not_offered_is_refused_without_sending()
    {
        await using var server = await TestServer.StartAsync(tls: true, auth: true);
        var sent = new List<string>();
        var options = new SmtpClientOptions { Tls = TlsMode.None, Trace = (s, l) => { if (!s) { sent.Add(l); } } };
        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", server.Port, options, Ct);
        await Assert.ThrowsAsync<SmtpSecurityException>(() => client.AuthenticateAsync(TestServer.Alice, TestServer.Password, Ct));
        Assert.DoesNotContain(sent, l => l.StartsWith("AUTH", StringComparison.Ordinal));
    }

    /// <summary>A scripted server offering <paramref name="mechanisms"/>, accepting whatever comes.</summary>
    private static FakeServer Offering(string mechanisms) => new(async s =>
    {
        await s.SendAsync("220 fake ESMTP\n");
        await s.ReadLineAsync();
        await s.SendAsync($"250-fake\n250 AUTH {mechanisms}\n");
        var auth = await s.ReadLineAsync();
        if (auth == "AUTH LOGIN")
        {
            await s.SendAsync("334 VXNlcm5hbWU6\n");
            await s.ReadLineAsync();
            await s.SendAsync("334 UGFzc3dvcmQ6\n");
            await s.ReadLineAsync();
        }

        await s.SendAsync("235 2.7.0 Authentication succeeded\n");
        await s.DrainAsync();
    });

    [Theory]
    [InlineData("LOGIN PLAIN", "AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=")]
    [InlineData("LOGIN", "AUTH LOGIN")]
    public async Task Plain_before_login_when_scram_is_not_offered(string mechanisms, string expected)
    {
        await using var fake = Offering(mechanisms);
        var trace = new List<string>();
        await using (var client = await SmtpConnection.ConnectAsync("127.0.0.1", fake.Port, new SmtpClientOptions { Tls = TlsMode.None, Trace = (s, l) => { if (!s) { trace.Add(l); } } }, Ct))
        {
            await client.AuthenticateAsync(TestServer.Alice, "secret", Ct);
            Assert.Equal(TestServer.Alice, client.AuthenticatedUser);
        }

        await fake.Session;
        Assert.Equal(expected, fake.Received[1]);
        Assert.DoesNotContain(trace, l => l.Contains("AGFsaWNl", StringComparison.Ordinal) || l == "c2VjcmV0");
        if (expected == "AUTH LOGIN")
        {
            Assert.Equal(["YWxpY2VAZXhhbXBsZS50ZXN0", "c2VjcmV0"], fake.Received.Skip(2));
        }
    }

    [Fact]
    public async Task A_scram_server_that_cannot_prove_the_password_is_refused()
    {
        await using var fake = new FakeServer(async s =>
        {
            await s.SendAsync("220 fake ESMTP\n");
            await s.ReadLineAsync();
            await s.SendAsync("250-fake\n250 AUTH SCRAM-SHA-256\n");
            var first = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String((await s.ReadLineAsync())!.Split(' ')[2]));
            var nonce = first.Split(",r=")[1];
            var serverFirst = $"r={nonce}server,s={Convert.ToBase64String(new byte[16])},i=4096";
            await s.SendAsync($"334 {Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(serverFirst))}\n");
            await s.ReadLineAsync();
            await s.SendAsync($"334 {Convert.ToBase64String("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="u8.ToArray())}\n");
            await s.ReadLineAsync();
            await s.SendAsync("501 5.5.2 Authentication cancelled\n");
            await s.DrainAsync();
        });
        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", fake.Port, new SmtpClientOptions { Tls = TlsMode.None }, Ct);
        await Assert.ThrowsAsync<SmtpSecurityException>(() => client.AuthenticateAsync(TestServer.Alice, "secret", Ct));
        Assert.Null(client.AuthenticatedUser);
        Assert.Equal("*", fake.Received[^1]);
    }

    [Fact]
    public async Task The_default_refuses_the_test_servers_1000_scram_iterations()
    {
        await using var server = await TestServer.StartAsync(tls: true, auth: true);
        var sent = new List<string>();
        var options = server.Pinned() with { MinimumScramIterations = new SmtpClientOptions().MinimumScramIterations, Trace = (s, l) => { if (!s) { sent.Add(l); } } };
        await using var client = await SmtpConnection.ConnectAsync("127.0.0.1", server.Port, options, Ct);
        var ex = await Assert.ThrowsAsync<SmtpSecurityException>(() => client.AuthenticateAsync(TestServer.Alice, TestServer.Password, Ct));
        Assert.Contains("4096", ex.Message, StringComparison.Ordinal);
        Assert.Equal("*", sent[^1]);
        Assert.Null(client.AuthenticatedUser);
    }

    [Fact]
    public async Task A_fake_server_asking_for_one_scram_iteration_gets_no_proof()
    {
        await using var fake = new FakeServer(async s =>
        {
            await s.SendAsync("220 fake ESMTP\n");
            await s.ReadLineAsync();
            await s.SendAsync("250-fake\n250 AUTH SCRAM-SHA-256\n");
            var first = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String((await s.ReadLineAsync())!.Split(' ')[2]));
            var nonce = first.Split(",r=")[1];
            var serverFirst = $"r={nonce}server,s={Convert.ToBase64String(new byte[16])},i=1";
            await s.SendAsync($"334 {Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(serverFirst))}\n");
            while (await s.ReadLineAsync() is not null)
            {
                await s.SendAsync("501 5.5.2 Authentication cancelled\n");
            }
        });
        await using (var client = await SmtpConnection.ConnectAsync("127.0.0.1", fake.Port, new SmtpClientOptions { Tls = TlsMode.None }, Ct))
        {
            await Assert.ThrowsAsync<SmtpSecurityException>(() => client.AuthenticateAsync(TestServer.Alice, "secret", Ct));
        }

        await fake.Session;
        Assert.Equal("*", fake.Received[2]);
        Assert.DoesNotContain(fake.Received, l => l.Contains("p=", StringComparison.Ordinal) || l.StartsWith("Yz1", StringComparison.Ordinal));
    }
}
