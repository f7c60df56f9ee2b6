using System.Collections.Concurrent;
using System.Text;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Mailroom.Server.Tests.Integration;

/// <summary>AUTH, LOGN, listener roles and who may send where, over real TLS on loopback.</summary>
public class AuthTests
{
    private const string Alice = "alice@example.test";

    private static string Plain(string user, string password) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));

    private static MimeMessage Message(string from, string to, string subject)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = "hello" };
        return message;
    }

    /// <summary>A raw session on <paramref name="server"/>, greeted and under TLS.</summary>
    private static async Task<RawClient> SecureRawAsync(LoopbackServer server, System.Net.IPAddress? from = null)
    {
        var client = await RawClient.ConnectAsync(server.Endpoint, from);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.Equal(250, (await client.CommandAsync("EHLO raw.test")).Code);
        Assert.Equal(220, (await client.CommandAsync("STARTTLS")).Code);
        await client.StartTlsAsync(server.Certificates!.Fingerprint);
        Assert.Equal(250, (await client.CommandAsync("EHLO raw.test")).Code);
        return client;
    }

    [Theory]
    [InlineData("PLAIN")]
    [InlineData("LOGIN")]
    [InlineData("SCRAM-SHA-256")]
    public async Task Mailkit_logs_in_over_starttls_on_the_submission_port_and_sends(string mechanism)
    {
        await using var server = await LoopbackServer.StartAsync(role: ListenerRole.Submission, auth: true);
        using var client = server.PinnedMailKitClient();
        await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.StartTls, TestContext.Current.CancellationToken);
        Assert.Contains(mechanism, client.AuthenticationMechanisms);
        var credentials = new System.Net.NetworkCredential(Alice, LoopbackServer.Password);
        SaslMechanism sasl = mechanism switch
        {
            "PLAIN" => new SaslMechanismPlain(credentials),
            "LOGIN" => new SaslMechanismLogin(credentials),
            _ => new SaslMechanismScramSha256(credentials),
        };
        await client.AuthenticateAsync(sasl, TestContext.Current.CancellationToken);
        await client.SendAsync(Message(Alice, "bob@example.test", "submitted"), TestContext.Current.CancellationToken);
        await client.DisconnectAsync(true, TestContext.Current.CancellationToken);

        var summary = Assert.Single(await server.Store.ListMessagesAsync("bob@example.test", CancellationToken.None));
        await using var body = await server.Store.OpenMessageAsync(summary.MessageId, CancellationToken.None);
        using var reader = new StreamReader(body!);
        Assert.Contains(" with ESMTPSA id ", await reader.ReadToEndAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Swaks_logs_in_with_tls_and_auth_and_sends()
    {
        var swaks = Tools.Find("swaks");
        await using var server = await LoopbackServer.StartAsync(role: ListenerRole.Submission, auth: true);
        var (exit, output) = await Tools.RunAsync(swaks, ["--server", "127.0.0.1", "--port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tls", "--auth", "PLAIN", "--auth-user", Alice, "--auth-password", LoopbackServer.Password,
            "--from", Alice, "--to", "bob@example.test", "--header", "Subject: from swaks with auth"]);
        Assert.True(exit == 0, output);
        Assert.Equal("from swaks with auth", Assert.Single(await server.Store.ListMessagesAsync("bob@example.test", CancellationToken.None)).Subject);
    }

    [Fact]
    public async Task Auth_and_logn_are_neither_offered_nor_accepted_before_tls()
    {
        await using var server = await LoopbackServer.StartAsync(tls: true, auth: true);
        await using var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.DoesNotContain((await client.CommandAsync("EHLO plain.test")).Lines, l => l.StartsWith("AUTH", StringComparison.Ordinal));
        var auth = await client.CommandAsync("AUTH PLAIN " + Plain(Alice, LoopbackServer.Password));
        Assert.Equal(538, auth.Code);
        Assert.Equal("5.7.11", auth.Enhanced.ToString());
        Assert.Equal(538, (await client.CommandAsync($"LOGN {Alice} {LoopbackServer.Password}")).Code);

        Assert.Equal(220, (await client.CommandAsync("STARTTLS")).Code);
        await client.StartTlsAsync(server.Certificates!.Fingerprint);
        Assert.Contains("AUTH SCRAM-SHA-256 PLAIN LOGIN", (await client.CommandAsync("EHLO secure.test")).Lines);
    }

    [Fact]
    public async Task Plaintext_auth_on_loopback_only_when_the_configuration_allows_it()
    {
        await using var server = await LoopbackServer.StartAsync(new SmtpServerOptions { AllowPlaintextAuthOnLoopback = true }, auth: true);
        await using var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.Contains("AUTH SCRAM-SHA-256 PLAIN LOGIN", (await client.CommandAsync("EHLO local.tool")).Lines);
        Assert.Equal(235, (await client.CommandAsync("AUTH PLAIN " + Plain(Alice, LoopbackServer.Password))).Code);
    }

    [Fact]
    public async Task Wrong_password_and_unknown_user_get_the_same_535()
    {
        var options = new SmtpServerOptions { LoginFailureDelay = TimeSpan.FromMilliseconds(1), MaxAuthFailuresPerSession = 10 };
        await using var server = await LoopbackServer.StartAsync(options, tls: true, auth: true);
        await using var client = await SecureRawAsync(server);
        var wrong = await client.CommandAsync("AUTH PLAIN " + Plain(Alice, "not the password"));
        var unknown = await client.CommandAsync("AUTH PLAIN " + Plain("nobody@example.test", "not the password"));
        Assert.Equal(535, wrong.Code);
        Assert.Equal("5.7.8", wrong.Enhanced.ToString());
        Assert.Equal(wrong.ToString(), unknown.ToString());
        Assert.Equal(535, (await client.CommandAsync("LOGN nobody@example.test whatever")).Code);
        Assert.Equal(235, (await client.CommandAsync($"LOGN {Alice} {LoopbackServer.Password}")).Code);
        Assert.Equal(503, (await client.CommandAsync("AUTH PLAIN " + Plain(Alice, LoopbackServer.Password))).Code);
    }

    [Fact]
    public async Task Scram_with_a_wrong_password_or_an_unknown_user_fails_alike_and_the_server_proves_itself()
    {
        var options = new SmtpServerOptions { LoginFailureDelay = TimeSpan.FromMilliseconds(1), MaxAuthFailuresPerSession = 10 };
        await using var server = await LoopbackServer.StartAsync(options, tls: true, auth: true);
        using var client = server.PinnedMailKitClient();
        await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.StartTls, TestContext.Current.CancellationToken);
        var wrong = await Assert.ThrowsAsync<AuthenticationException>(() => client.AuthenticateAsync(new SaslMechanismScramSha256(Alice, "wrong"), TestContext.Current.CancellationToken));
        var unknown = await Assert.ThrowsAsync<AuthenticationException>(() => client.AuthenticateAsync(new SaslMechanismScramSha256("nobody@example.test", "wrong"), TestContext.Current.CancellationToken));
        Assert.Equal(wrong.Message, unknown.Message);

        // MailKit checks the server's signature (v=) before it accepts the log-in.
        var scram = new SaslMechanismScramSha256(Alice, LoopbackServer.Password);
        await client.AuthenticateAsync(scram, TestContext.Current.CancellationToken);
        Assert.True(scram.IsAuthenticated);
        await client.SendAsync(Message(Alice, "bob@example.test", "after scram"), TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// The SCRAM server-first message for <paramref name="user"/> (RFC 5802 5.1: r=, s=, i=), on a
    /// fresh TLS session, then the exchange is cancelled with "*".
    /// </summary>
    private static async Task<(string Nonce, byte[] Salt, string Iterations)> ScramServerFirstAsync(LoopbackServer server, string user, string clientNonce)
    {
        await using var client = await SecureRawAsync(server);
        var reply = await client.CommandAsync("AUTH SCRAM-SHA-256 " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"n,,n={user},r={clientNonce}")));
        Assert.True(reply.Code == 334, $"client-first for {user} got {reply}");
        var text = Encoding.UTF8.GetString(Convert.FromBase64String(reply.Lines[0]));
        var parts = text.Split(',');
        Assert.True(parts.Length == 3 && parts[0].StartsWith("r=", StringComparison.Ordinal) && parts[1].StartsWith("s=", StringComparison.Ordinal) && parts[2].StartsWith("i=", StringComparison.Ordinal), $"server-first for {user}: {text}");
        Assert.Equal(501, (await client.CommandAsync("*")).Code);
        return (parts[0][2..], Convert.FromBase64String(parts[1][2..]), parts[2][2..]);
    }

    /// <summary>
    /// User enumeration through SCRAM: an unknown user gets a server-first message like a real
    /// user's (same iteration count, a salt of the same length, the client's nonce extended), and
    /// its salt is the same at every attempt, as a stored salt would be, yet differs between users.
    /// </summary>
    [Fact]
    public async Task Scram_server_first_for_an_unknown_user_looks_like_a_real_users_and_keeps_its_salt()
    {
        var options = new SmtpServerOptions { LoginFailureDelay = TimeSpan.FromMilliseconds(1) };
        await using var server = await LoopbackServer.StartAsync(options, tls: true, auth: true);
        var real = await ScramServerFirstAsync(server, Alice, "realnonce1");
        var unknown = await ScramServerFirstAsync(server, "nobody@example.test", "fakenonce1");
        var again = await ScramServerFirstAsync(server, "nobody@example.test", "fakenonce2");
        var other = await ScramServerFirstAsync(server, "someone-else@example.test", "fakenonce3");

        Assert.Equal(real.Iterations, unknown.Iterations);
        Assert.Equal(real.Salt.Length, unknown.Salt.Length);
        Assert.StartsWith("realnonce1", real.Nonce, StringComparison.Ordinal);
        Assert.StartsWith("fakenonce1", unknown.Nonce, StringComparison.Ordinal);
        Assert.Equal(real.Nonce.Length - "realnonce1".Length, unknown.Nonce.Length - "fakenonce1".Length);
        Assert.Equal(unknown.Salt, again.Salt);
        Assert.NotEqual(unknown.Salt, other.Salt);
        Assert.NotEqual(real.Salt, unknown.Salt);
    }

    /// <summary>An account with a hash of the first format logs in with PLAIN, is upgraded, and can then use SCRAM.</summary>
    [Fact]
    public async Task A_legacy_hash_is_upgraded_at_the_next_plain_login_and_then_scram_works()
    {
        await using var server = await LoopbackServer.StartAsync(tls: true, auth: true);
        var salt = System.Security.Cryptography.RandomNumberGenerator.GetBytes(16);
        var legacy = $"$pbkdf2-sha256$i=1000${Convert.ToBase64String(salt)}${Convert.ToBase64String(System.Security.Cryptography.Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes("old secret"), salt, 1000, System.Security.Cryptography.HashAlgorithmName.SHA256, 32))}";
        Assert.True(await server.Store.SetPasswordHashAsync("bob@example.test", legacy, CancellationToken.None));

        using var client = server.PinnedMailKitClient();
        await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.StartTls, TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<AuthenticationException>(() => client.AuthenticateAsync(new SaslMechanismScramSha256("bob@example.test", "old secret"), TestContext.Current.CancellationToken));
        await client.AuthenticateAsync(new SaslMechanismPlain("bob@example.test", "old secret"), TestContext.Current.CancellationToken);
        await client.DisconnectAsync(true, TestContext.Current.CancellationToken);

        Assert.StartsWith("$scram-sha-256$", (await server.Store.FindAccountAsync("bob@example.test", CancellationToken.None))!.PasswordHash, StringComparison.Ordinal);
        using var again = server.PinnedMailKitClient();
        await again.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.StartTls, TestContext.Current.CancellationToken);
        await again.AuthenticateAsync(new SaslMechanismScramSha256("bob@example.test", "old secret"), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Malformed_and_cancelled_exchanges_are_501()
    {
        await using var server = await LoopbackServer.StartAsync(tls: true, auth: true);
        await using var client = await SecureRawAsync(server);
        Assert.Equal("5.5.2", (await client.CommandAsync("AUTH PLAIN not-base64!")).Enhanced.ToString());
        Assert.Equal(501, (await client.CommandAsync("AUTH PLAIN " + Convert.ToBase64String("no nul bytes"u8.ToArray()))).Code);
        Assert.Equal(334, (await client.CommandAsync("AUTH LOGIN")).Code);
        Assert.Equal(501, (await client.CommandAsync("*")).Code);
        Assert.Equal(504, (await client.CommandAsync("AUTH CRAM-MD5")).Code);
        Assert.Equal(334, (await client.CommandAsync("AUTH PLAIN")).Code);
        Assert.Equal(235, (await client.CommandAsync(Plain(Alice, LoopbackServer.Password))).Code);
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<alice@example.test>")).Code);
    }

    [Theory]
    [InlineData("p=tls-server-end-point,,n=alice@example.test,r=abc")]
    [InlineData("n,a=bob@example.test,n=alice@example.test,r=abc")]
    [InlineData("n,,r=abc")]
    [InlineData("n,,n=alice@example.test,r=")]
    [InlineData("n,,n=al=ZZice,r=abc")]
    public async Task Scram_first_messages_the_server_cannot_accept_are_501(string clientFirst)
    {
        await using var server = await LoopbackServer.StartAsync(tls: true, auth: true);
        await using var client = await SecureRawAsync(server);
        var reply = await client.CommandAsync("AUTH SCRAM-SHA-256 " + Convert.ToBase64String(Encoding.UTF8.GetBytes(clientFirst)));
        Assert.Equal(501, reply.Code);
        Assert.Equal(250, (await client.CommandAsync("NOOP")).Code);
    }

    [Fact]
    public async Task The_submission_port_wants_tls_then_auth_before_mail()
    {
        await using var server = await LoopbackServer.StartAsync(role: ListenerRole.Submission, auth: true);
        await using var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.Equal(250, (await client.CommandAsync("EHLO plain.test")).Code);
        var beforeTls = await client.CommandAsync($"MAIL FROM:<{Alice}>");
        Assert.Equal(530, beforeTls.Code);
        Assert.Contains("STARTTLS", beforeTls.Lines[0], StringComparison.Ordinal);
        Assert.Equal(220, (await client.CommandAsync("STARTTLS")).Code);
        await client.StartTlsAsync(server.Certificates!.Fingerprint);
        Assert.Equal(250, (await client.CommandAsync("EHLO secure.test")).Code);
        var beforeAuth = await client.CommandAsync($"MAIL FROM:<{Alice}>");
        Assert.Equal(530, beforeAuth.Code);
        Assert.Equal("5.7.0", beforeAuth.Enhanced.ToString());
    }

    /// <summary>
    /// The open-relay tricks: the percent hack, source routes, quoted local parts holding an
    /// address, IP literals, and sending as somebody else. None reaches another domain.
    /// </summary>
    [Fact]
    public async Task Open_relay_tricks_all_fail_with_and_without_a_login()
    {
        await using var server = await LoopbackServer.StartAsync(tls: true, auth: true);
        foreach (var login in new[] { false, true })
        {
            await using var client = await SecureRawAsync(server);
            if (login)
            {
                Assert.Equal(235, (await client.CommandAsync("AUTH PLAIN " + Plain(Alice, LoopbackServer.Password))).Code);
                Assert.Equal(553, (await client.CommandAsync("MAIL FROM:<bob@example.test>")).Code);
                Assert.Equal(553, (await client.CommandAsync("MAIL FROM:<>")).Code);
            }

            Assert.Equal(250, (await client.CommandAsync($"MAIL FROM:<{(login ? Alice : "someone@remote.test")}>")).Code);
            foreach (var trick in new[]
            {
                "victim@elsewhere.test",
                "victim%elsewhere.test@example.test",
                "@example.test:victim@elsewhere.test",
                "\"victim@elsewhere.test\"@example.test",
                "victim@[127.0.0.1]",
                "victim@example.test.elsewhere.test",
            })
            {
                var reply = await client.CommandAsync($"RCPT TO:<{trick}>");
                Assert.True(reply.Code == 550, $"{trick} (logged in: {login}) got {reply}");
            }

            Assert.Equal(250, (await client.CommandAsync("RCPT TO:<bob@example.test>")).Code);
            var foreign = await client.CommandAsync("RCPT TO:<victim@elsewhere.test>");
            Assert.Contains(login ? "outbound delivery is not configured" : "Relaying denied", foreign.Lines[0], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Failed_logins_are_throttled_per_account_and_end_the_session()
    {
        var options = new SmtpServerOptions
        {
            LoginFailureDelay = TimeSpan.FromMilliseconds(1),
            MaxLoginFailuresPerAccount = 2,
            MaxAuthFailuresPerSession = 3,
        };
        await using var server = await LoopbackServer.StartAsync(options, tls: true, auth: true);
        await using (var first = await SecureRawAsync(server))
        {
            Assert.Equal(535, (await first.CommandAsync("AUTH PLAIN " + Plain(Alice, "guess 1"))).Code);
            Assert.Equal(535, (await first.CommandAsync("AUTH PLAIN " + Plain(Alice, "guess 2"))).Code);

            // The account is now locked for a while, right password or not.
            await first.SendAsync("AUTH PLAIN " + Plain(Alice, LoopbackServer.Password) + "\r\n");
            var locked = (await first.ReadReplyAsync())!;
            Assert.Equal(454, locked.Code);
            Assert.Equal("4.7.0", locked.Enhanced.ToString());
            Assert.Equal(421, (await first.ReadReplyAsync())!.Code);
            Assert.Null(await first.ReadReplyAsync());
        }

        // Another account still logs in from the same address.
        await using var second = await SecureRawAsync(server);
        Assert.Equal(235, (await second.CommandAsync("AUTH PLAIN " + Plain("bob@example.test", LoopbackServer.Password))).Code);
    }

    /// <summary>An attacker failing on purpose from one address cannot lock the owner out from another.</summary>
    [Fact]
    public async Task Failures_from_one_address_do_not_lock_the_account_for_another()
    {
        var options = new SmtpServerOptions { LoginFailureDelay = TimeSpan.FromMilliseconds(1), MaxLoginFailuresPerAccount = 2, MaxAuthFailuresPerSession = 10 };
        await using var server = await LoopbackServer.StartAsync(options, tls: true, auth: true);
        await using (var attacker = await SecureRawAsync(server, System.Net.IPAddress.Parse("127.0.0.2")))
        {
            for (var i = 0; i < 3; i++)
            {
                await attacker.CommandAsync("AUTH PLAIN " + Plain(Alice, "guess " + i));
            }

            Assert.Equal(454, (await attacker.CommandAsync("AUTH PLAIN " + Plain(Alice, LoopbackServer.Password))).Code);
        }

        await using var owner = await SecureRawAsync(server, System.Net.IPAddress.Parse("127.0.0.3"));
        Assert.Equal(235, (await owner.CommandAsync("AUTH PLAIN " + Plain(Alice, LoopbackServer.Password))).Code);
    }

    /// <summary>The directory finds "kira" under "Kira" (KELVIN SIGN); the throttle must count them as one account.</summary>
    [Fact]
    public async Task Another_spelling_of_the_same_account_is_throttled_as_that_account()
    {
        var options = new SmtpServerOptions { LoginFailureDelay = TimeSpan.FromMilliseconds(1), MaxLoginFailuresPerAccount = 2, MaxAuthFailuresPerSession = 10 };
        await using var server = await LoopbackServer.StartAsync(options, tls: true, auth: true);
        await server.Store.AddAccountAsync("kira@example.test", new Core.Accounts.PasswordHasher(1000).Hash("kira's password"), CancellationToken.None);
        await using var client = await SecureRawAsync(server);
        Assert.Equal(535, (await client.CommandAsync("AUTH PLAIN " + Plain("kira@example.test", "guess 1"))).Code);
        Assert.Equal(535, (await client.CommandAsync("AUTH PLAIN " + Plain("KIRA@example.test", "guess 2"))).Code);
        Assert.Equal(454, (await client.CommandAsync("AUTH PLAIN " + Plain("\u212Aira@example.test", "kira's password"))).Code);
    }

    /// <summary>Attempts are counted before the slow check, so many sessions at once cannot slip past the per-address limit.</summary>
    [Fact]
    public async Task Parallel_sessions_cannot_exceed_the_per_address_limit()
    {
        var options = new SmtpServerOptions { LoginFailureDelay = TimeSpan.FromMilliseconds(1), MaxLoginFailuresPerAddress = 5, MaxLoginFailuresPerAccount = 100 };
        await using var server = await LoopbackServer.StartAsync(options, tls: true, auth: true);
        await server.Store.AddAccountAsync("slow@example.test", new Core.Accounts.PasswordHasher(iterations: 100_000).Hash("right"), CancellationToken.None);
        var clients = new List<RawClient>();
        try
        {
            for (var i = 0; i < 12; i++)
            {
                clients.Add(await SecureRawAsync(server));
            }

            var replies = await Task.WhenAll(clients.Select((c, i) => c.CommandAsync("AUTH PLAIN " + Plain("slow@example.test", "wrong " + i))));
            Assert.Equal(5, replies.Count(r => r.Code == 535));
            Assert.Equal(7, replies.Count(r => r.Code == 454));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Password checks are slow on purpose. They run on the thread pool, at most one per core, so
    /// a crowd logging in at once leaves every other session answering at once.
    /// </summary>
    [Fact]
    public async Task Many_log_ins_at_once_do_not_stall_other_sessions()
    {
        await using var server = await LoopbackServer.StartAsync(tls: true, auth: true);
        await server.Store.AddAccountAsync("slow@example.test", new Core.Accounts.PasswordHasher(iterations: 400_000).Hash("slow but sure"), CancellationToken.None);
        var crowd = new List<RawClient>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                crowd.Add(await SecureRawAsync(server));
            }

            await using var bystander = await SecureRawAsync(server);
            var logins = crowd.Select(c => c.CommandAsync("AUTH PLAIN " + Plain("slow@example.test", "slow but sure"))).ToArray();
            Assert.Equal(250, (await bystander.CommandAsync("NOOP")).Code);
            Assert.Equal(250, (await bystander.CommandAsync("MAIL FROM:<someone@remote.test>")).Code);
            var stillChecking = logins.Count(t => !t.IsCompleted);

            Assert.All(await Task.WhenAll(logins), r => Assert.Equal(235, r.Code));
            Assert.True(stillChecking > 0, "every log-in had finished before the bystander's NOOP was answered");
        }
        finally
        {
            foreach (var client in crowd)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task No_password_reaches_the_logs()
    {
        const string Secret = "Tr0ub4dor&3-never-logged";
        var logger = new RecordingLogger();
        await using var server = await LoopbackServer.StartAsync(new SmtpServerOptions { LoginFailureDelay = TimeSpan.FromMilliseconds(1) }, tls: true, auth: true, logger: logger);
        await using var client = await SecureRawAsync(server);
        await client.CommandAsync("AUTH PLAIN " + Plain(Alice, Secret));
        await client.CommandAsync($"LOGN {Alice} {Secret}");
        await client.CommandAsync("AUTH LOGIN");
        await client.CommandAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(Alice)));
        await client.CommandAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(Secret)));
        Assert.NotEmpty(logger.Lines);
        Assert.DoesNotContain(logger.Lines, l => l.Contains(Secret, StringComparison.Ordinal) || l.Contains(Plain(Alice, Secret), StringComparison.Ordinal));
    }
}
