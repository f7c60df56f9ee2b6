using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using Mailroom.Core.Audit;
using Mailroom.Server.Tests.Fakes;
using MimeKit;

namespace Mailroom.Server.Tests.Integration;

/// <summary>The audit log of a real server on loopback: TLS, real clients' log-ins, refused connections.</summary>
public class AuditTests
{
    private const string Alice = "alice@example.test";

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static Task<AuditEvent> TlsEntryAsync(RecordingAuditLog audit, AuditOutcome outcome) =>
        audit.WaitForAsync(e => e.Kind == AuditKinds.Tls && e.Outcome == outcome);

    [Theory]
    [InlineData("PLAIN")]
    [InlineData("LOGIN")]
    [InlineData("SCRAM-SHA-256")]
    public async Task Mailkit_over_starttls_leaves_tls_login_and_message_entries_and_no_secret(string mechanism)
    {
        var audit = new RecordingAuditLog();
        await using var server = await LoopbackServer.StartAsync(role: ListenerRole.Submission, auth: true, audit: audit);
        using (var client = server.PinnedMailKitClient())
        {
            await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.StartTls, TestContext.Current.CancellationToken);
            var credentials = new System.Net.NetworkCredential(Alice, LoopbackServer.Password);
            SaslMechanism sasl = mechanism switch
            {
                "PLAIN" => new SaslMechanismPlain(credentials),
                "LOGIN" => new SaslMechanismLogin(credentials),
                _ => new SaslMechanismScramSha256(credentials),
            };
            await client.AuthenticateAsync(sasl, TestContext.Current.CancellationToken);
            var message = new MimeMessage();
            message.From.Add(MailboxAddress.Parse(Alice));
            message.To.Add(MailboxAddress.Parse("bob@example.test"));
            message.Subject = "audited";
            message.Body = new TextPart("plain") { Text = "a body the audit log never sees" };
            await client.SendAsync(message, TestContext.Current.CancellationToken);
            await client.DisconnectAsync(true, TestContext.Current.CancellationToken);
        }

        await audit.WaitForAsync(e => e.Kind == AuditKinds.Disconnect);
        var tls = Assert.Single(audit.OfKind(AuditKinds.Tls));
        Assert.Equal(AuditOutcome.Ok, tls.Outcome);
        Assert.StartsWith("Tls1", tls.Detail, StringComparison.Ordinal);
        Assert.Equal("submission", tls.Listener);
        var login = Assert.Single(audit.OfKind(AuditKinds.Login));
        Assert.Equal((Alice, AuditOutcome.Ok, mechanism), (login.User, login.Outcome, login.Detail));
        var accepted = Assert.Single(audit.DurableEvents);
        Assert.Equal((AuditKinds.Message, Alice), (accepted.Kind, accepted.User));
        Assert.Equal(["bob@example.test"], accepted.Recipients);
        Assert.Equal(accepted.MessageId, Assert.Single(await server.Store.ListMessagesAsync("bob@example.test", CancellationToken.None)).MessageId);

        var log = audit.Serialised();
        string[] secrets = [LoopbackServer.Password, Base64(LoopbackServer.Password), Base64($"\0{Alice}\0{LoopbackServer.Password}"), "a body"];
        Assert.All(secrets, secret => Assert.DoesNotContain(secret, log, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failed_starttls_handshake_is_recorded_by_its_reason_and_the_session_ends()
    {
        var audit = new RecordingAuditLog();
        await using var server = await LoopbackServer.StartAsync(tls: true, audit: audit);
        await using (var client = await RawClient.ConnectAsync(server.Endpoint))
        {
            Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
            Assert.Equal(250, (await client.CommandAsync("EHLO plain.test")).Code);
            Assert.Equal(220, (await client.CommandAsync("STARTTLS")).Code);
            await client.SendAsync("this is not a TLS ClientHello\r\n");
            Assert.Null(await client.ReadReplyAsync());
        }

        var failed = await TlsEntryAsync(audit, AuditOutcome.Refused);
        Assert.Equal("handshake failed", failed.Detail);
        await audit.WaitForAsync(e => e.Kind == AuditKinds.Disconnect);
        var starttls = audit.Commands[^1];
        Assert.Equal(("STARTTLS", "220 2.0.0", AuditOutcome.Deferred, "interrupted: TLS handshake failed"), (starttls.Command, starttls.Reply, starttls.Outcome, starttls.Detail));
    }

    [Fact]
    public async Task Implicit_tls_is_recorded_after_the_connect_entry_and_a_failed_handshake_by_the_server()
    {
        var audit = new RecordingAuditLog();
        await using var server = await LoopbackServer.StartAsync(role: ListenerRole.Submissions, audit: audit);
        await using (var garbage = await RawClient.ConnectAsync(server.Endpoint))
        {
            await garbage.SendAsync("EHLO this is not a ClientHello\r\n");
            Assert.Null(await garbage.ReadReplyAsync());
        }

        var failed = await TlsEntryAsync(audit, AuditOutcome.Refused);
        Assert.Equal(("submissions", "handshake failed"), (failed.Listener, failed.Detail));
        Assert.StartsWith("127.0.0.1:", failed.Client, StringComparison.Ordinal);
        Assert.NotNull(failed.Session);

        await using (var client = await RawClient.ConnectAsync(server.Endpoint))
        {
            await client.StartTlsAsync(server.Certificates!.Fingerprint);
            Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
            Assert.Equal(221, (await client.CommandAsync("QUIT")).Code);
        }

        await audit.WaitForAsync(e => e.Kind == AuditKinds.Disconnect);
        var session = audit.Events.Where(e => e.Session != failed.Session).ToList();
        Assert.Equal([AuditKinds.Connect, AuditKinds.Tls, AuditKinds.Command, AuditKinds.Disconnect], session.Select(e => e.Kind));
        Assert.Equal(AuditOutcome.Ok, session[1].Outcome);
        Assert.StartsWith("Tls1", session[1].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connection_over_the_cap_is_recorded_as_deferred_with_its_421()
    {
        var audit = new RecordingAuditLog();
        await using var server = await LoopbackServer.StartAsync(new SmtpServerOptions { MaxConnectionsPerAddress = 1 }, audit: audit);
        await using var first = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await first.ReadReplyAsync())!.Code);
        await using (var second = await RawClient.ConnectAsync(server.Endpoint))
        {
            Assert.Equal(421, (await second.ReadReplyAsync())!.Code);
        }

        var refused = await audit.WaitForAsync(e => e.Kind == AuditKinds.Connect && e.Outcome == AuditOutcome.Deferred);
        Assert.Equal(("421 4.7.0", server.Endpoint.ToString(), "smtp"), (refused.Reply, refused.Detail, refused.Listener));
        var accepted = Assert.Single(audit.Events, e => e.Kind == AuditKinds.Connect && e.Outcome == AuditOutcome.Ok);
        Assert.NotEqual(accepted.Session, refused.Session);
        Assert.NotEqual(accepted.Client, refused.Client);
    }
}
