using Mailroom.Core.Audit;
using Mailroom.Server.Tests.Fakes;
using static Mailroom.Server.Tests.Sessions.AuditTestText;

namespace Mailroom.Server.Tests.Sessions;

/// <summary>Log-ins are audited with the account tried and the verdict; passwords and SASL payloads never are.</summary>
public class AuditLoginTests
{
    private const string Alice = SqliteSessionStore.Alice;
    private const string Password = SqliteSessionStore.Password;

    private static SmtpServerOptions FastFailures(int perAddress = 10)
    {
        var options = SqliteSessionStore.Options();
        options.LoginFailureDelay = TimeSpan.FromMilliseconds(1);
        options.MaxAuthFailuresPerSession = 10;
        options.MaxLoginFailuresPerAddress = perAddress;
        return options;
    }

    /// <summary>Runs <paramref name="script"/> in a fresh session greeted with EHLO, then quits.</summary>
    private static async Task SessionAsync(SqliteSessionStore db, RecordingAuditLog audit, Func<SessionHarness, Task> script)
    {
        await using var h = db.Session(audit, FastFailures());
        await h.StartAsync();
        await script(h);
        await h.ExpectAsync("QUIT", 221);
    }

    [Fact]
    public async Task Secrets_never_reach_the_audit_log_whatever_way_they_are_sent()
    {
        await using var db = await SqliteSessionStore.CreateAsync();
        var audit = new RecordingAuditLog();
        var plain = Plain(Alice, Password);

        await SessionAsync(db, audit, async h => await h.ExpectAsync("AUTH PLAIN " + plain, 235));
        await SessionAsync(db, audit, async h =>
        {
            await h.ExpectAsync("AUTH PLAIN", 334);
            await h.ExpectAsync(plain, 235);
        });
        await SessionAsync(db, audit, async h =>
        {
            await h.ExpectAsync("AUTH LOGIN", 334);
            await h.ExpectAsync(Base64(Alice), 334);
            await h.ExpectAsync(Base64(Password), 235);
        });
        await SessionAsync(db, audit, async h =>
        {
            await h.ExpectAsync("AUTH LOGIN " + Base64(Alice), 334);
            await h.ExpectAsync(Base64(Password), 235);
        });
        await SessionAsync(db, audit, async h => await h.ExpectAsync($"LOGN {Alice} {Password}", 235));
        await SessionAsync(db, audit, async h =>
        {
            // Lines that do not parse, a password that parses with more after it, and SASL
            // responses sent when nobody asked for one.
            await h.ExpectAsync($"AUTH PLAIN {plain} junk", 501);
            await h.ExpectAsync($"LOGN  {Password}", 501);
            await h.ExpectAsync($"LOGN {Alice} {Password}\u0001", 500);
            await h.ExpectAsync($"LOGN {Alice} {Password} extra", 535);
            await h.ExpectAsync("AUTH PLAIN " + Plain(Alice, Password + "-wrong"), 535);
            await h.ExpectAsync("AUTH X-UNKNOWN", 504);
            await h.ExpectAsync(Base64(Password), 500);
            await h.ExpectAsync(plain, 500);
            await h.ExpectAsync("AUTH PLAIN", 334);
            await h.ExpectAsync("*", 501);
        });

        // The sessions are on record: five log-ins, two failures, and the commands that carried them.
        var logins = audit.OfKind(AuditKinds.Login);
        Assert.Equal(["PLAIN", "PLAIN", "LOGIN", "LOGIN", "LOGN"], logins.Where(l => l.Outcome == AuditOutcome.Ok).Select(l => l.Detail));
        Assert.Equal(2, logins.Count(l => l.Outcome == AuditOutcome.Refused));
        Assert.Contains(audit.Commands, c => c is { Command: "AUTH", Arguments: "PLAIN " + AuditEvent.Redacted, Reply: "235 2.7.0" });
        Assert.Contains(audit.Commands, c => c is { Command: "AUTH", Arguments: "LOGIN", Reply: "235 2.7.0" });
        Assert.Contains(audit.Commands, c => c is { Command: "LOGN", Arguments: Alice + " " + AuditEvent.Redacted, Reply: "235 2.7.0" });

        var log = audit.Serialised();
        string[] secrets =
        [
            Password, Base64(Password), plain, Plain(Alice, Password + "-wrong"),
            Password + " extra", Base64(Password).TrimEnd('='), plain.TrimEnd('='),
            .. Password.Split(' '),
        ];
        Assert.All(secrets, secret => Assert.DoesNotContain(secret, log, StringComparison.OrdinalIgnoreCase));

        // SASL continuation lines are no commands.
        Assert.DoesNotContain(audit.Commands, c => c.Command == "*" || c.Arguments?.Contains(Base64(Alice), StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Successful_failed_and_throttled_log_ins_are_recorded_for_the_account_tried()
    {
        await using var db = await SqliteSessionStore.CreateAsync();
        var audit = new RecordingAuditLog();
        await using (var ok = db.Session(audit, FastFailures()))
        {
            await ok.StartAsync();
            await ok.ExpectAsync("AUTH PLAIN " + Plain("ALICE@Example.Test", Password), 235);
        }

        // Two failures from this address are the limit; the third attempt is not even checked.
        await using (var h = db.Session(audit, FastFailures(perAddress: 2)))
        {
            await h.StartAsync();
            await h.ExpectAsync($"LOGN {SqliteSessionStore.Bob} wrong-password", 535);
            await h.ExpectAsync("AUTH LOGIN", 334);
            await h.ExpectAsync(Base64("Nobody@Example.Test"), 334);
            await h.ExpectAsync(Base64("wrong-password"), 535);
            await h.ExpectAsync($"LOGN {Alice} {Password}", 454);
        }

        Assert.Equal(
            [
                (Alice, AuditOutcome.Ok, "235 2.7.0", "PLAIN"),
                (SqliteSessionStore.Bob, AuditOutcome.Refused, "535 5.7.8", "LOGN"),
                ("nobody@example.test", AuditOutcome.Refused, "535 5.7.8", "LOGIN"),
                (Alice, AuditOutcome.Deferred, "454 4.7.0", "LOGN"),
            ],
            audit.OfKind(AuditKinds.Login).Select(l => (l.User, l.Outcome, l.Reply, l.Detail)));
        Assert.DoesNotContain("wrong-password", audit.Serialised(), StringComparison.Ordinal);
        Assert.DoesNotContain(Password, audit.Serialised(), StringComparison.Ordinal);
    }
}
