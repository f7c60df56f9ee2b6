using Mailroom.Core.Audit;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;
using Mailroom.Server.Tests.Fakes;
using static Mailroom.Server.Tests.Sessions.AuditTestText;

namespace Mailroom.Server.Tests.Sessions;

/// <summary>Every command line a session reads is in the audit log, with the reply it got and without its secrets.</summary>
public class AuditCommandTests
{
    private const string Alice = SqliteSessionStore.Alice;

    [Fact]
    public async Task Every_verb_is_recorded_with_the_reply_it_got()
    {
        await using var db = await SqliteSessionStore.CreateAsync();
        await db.DeliverAsync(Alice, "Subject: one\r\n\r\none\r\n");
        var audit = new RecordingAuditLog();
        var options = SqliteSessionStore.Options();
        options.VrfyExpn = AddressDisclosure.Anyone;
        var got = new List<(string Verb, string Reply)>();
        await using (var h = db.Session(audit, options))
        {
            Assert.Equal(220, (await h.ReadReplyAsync()).Code);
            async Task<SmtpReply> SayAsync(string line)
            {
                var reply = await h.CommandAsync(line);
                got.Add((line.Split(' ')[0], Wire(reply)));
                return reply;
            }

            await SayAsync("HELO old.client");
            await SayAsync("EHLO client.test");
            await SayAsync("HELP MAIL");
            await SayAsync("NOOP");
            await SayAsync("VRFY alice@example.test");
            await SayAsync("EXPN staff@example.test");
            await SayAsync("STARTTLS");
            await SayAsync("XCAESAR 3");
            await SayAsync("MAIL FROM:<s@remote.test>");
            await SayAsync("RCPT TO:<alice@example.test>");
            Assert.Equal(354, (await h.CommandAsync("DATA")).Code);
            got.Add(("DATA", Wire(await h.CommandAsync("Subject: two\r\n\r\ntwo\r\n."))));
            await SayAsync("MAIL FROM:<s@remote.test>");
            await SayAsync("RCPT TO:<bob@example.test>");
            await h.SendAsync("BDAT 5 LAST\r\nthree");
            got.Add(("BDAT", Wire(await h.ReadReplyAsync())));
            await SayAsync("RSET");
            await SayAsync("AUTH PLAIN " + Plain(Alice, SqliteSessionStore.Password));
            await SayAsync("READ INBOX");
            await h.ReadBytesAsync(Octets(await SayAsync("NEXT")));
            await SayAsync("PREV");
            await SayAsync("FLAG important");
            await SayAsync("LIST");
            await SayAsync("DELE");
            await SayAsync("RTRN");
            await SayAsync("LOGN " + Alice + " " + SqliteSessionStore.Password);
            await SayAsync("QUIT");
            Assert.Equal(SessionEnd.Quit, await h.Run);
        }

        Assert.Equal(got, audit.Commands.Select(c => (c.Command!, c.Reply!)));

        // A verb added later without auditing fails here.
        var verbs = Enum.GetValues<SmtpVerb>().Select(v => CommandTable.Get(v).Name);
        Assert.Empty(verbs.Except(audit.Commands.Select(c => c.Command!)));

        // The replies differ enough that this is no accident: successes, refusals and 4xx alike.
        Assert.Contains(audit.Commands, c => c is { Command: "STARTTLS", Reply: "454 4.7.0", Outcome: AuditOutcome.Deferred });
        Assert.Contains(audit.Commands, c => c is { Command: "PREV", Reply: "550 5.2.0", Outcome: AuditOutcome.Refused });
        Assert.Contains(audit.Commands, c => c is { Command: "DATA", Reply: "250 2.0.0", Outcome: AuditOutcome.Ok });
    }

    [Fact]
    public async Task Commands_carry_their_arguments_the_session_and_the_user_who_sent_them()
    {
        await using var db = await SqliteSessionStore.CreateAsync();
        var audit = new RecordingAuditLog();
        await using (var h = db.Session(audit))
        {
            await h.StartAsync("EHLO Client.Test");
            await h.ExpectAsync("VRFY alice@example.test", 252);
            await h.ExpectAsync("LOGN " + Alice + " " + SqliteSessionStore.Password, 235);
            await h.ExpectAsync("MAIL FROM:<alice@example.test> SIZE=100 BODY=8BITMIME", 250);
            await h.ExpectAsync("RCPT TO:<bob@example.test>", 250);
            await h.SendAsync("BDAT 4\r\nabcdBDAT 0 LAST\r\n");
            Assert.Equal(250, (await h.ReadReplyAsync()).Code);
            Assert.Equal(250, (await h.ReadReplyAsync()).Code);
            await h.ExpectAsync("FLAG read off", 503);
            await h.ExpectAsync("RTRN", 250);
            await h.ExpectAsync("NOOP anything at all", 250);
        }

        Assert.Equal(
            [
                ("EHLO", "Client.Test", null),
                ("VRFY", "alice@example.test", null),
                ("LOGN", Alice + " " + AuditEvent.Redacted, Alice),
                ("MAIL", "FROM:<alice@example.test> SIZE=100 BODY=8BITMIME", Alice),
                ("RCPT", "TO:<bob@example.test>", Alice),
                ("BDAT", "4", Alice),
                ("BDAT", "0 LAST", Alice),
                ("FLAG", "read off", Alice),

                // RTRN logs out; the entry still names who sent it.
                ("RTRN", null, Alice),
                ("NOOP", null, null),
            ],
            audit.Commands.Select(c => (c.Command, c.Arguments, c.User)));
        Assert.All(audit.Events, e => Assert.Equal(("test", "127.0.0.1:40000", "smtp"), (e.Session, e.Client, e.Listener)));
        Assert.All(audit.Events, e => Assert.InRange(e.Timestamp, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task A_pipelined_group_gets_one_entry_per_command_with_its_own_reply_in_order()
    {
        var audit = new RecordingAuditLog();
        await using var h = new SessionHarness(audit: audit);
        await h.StartAsync();
        await h.SendAsync("MAIL FROM:<s@remote.test>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n");
        foreach (var code in new[] { 250, 250, 550, 250, 354 })
        {
            Assert.Equal(code, (await h.ReadReplyAsync()).Code);
        }

        await h.ExpectAsync("hello\r\n.", 250);
        Assert.Equal(
            [
                ("EHLO", "250", AuditOutcome.Ok),
                ("MAIL", "250 2.1.0", AuditOutcome.Ok),
                ("RCPT", "250 2.1.5", AuditOutcome.Ok),
                ("RCPT", "550 5.1.1", AuditOutcome.Refused),
                ("RCPT", "250 2.1.5", AuditOutcome.Ok),

                // DATA's final reply, not its 354.
                ("DATA", "250 2.0.0", AuditOutcome.Ok),
            ],
            audit.Commands.Select(c => (c.Command!, c.Reply!, c.Outcome)));
        Assert.Equal(
            ["TO:<alice@example.test>", "TO:<nobody@example.test>", "TO:<bob@example.test>"],
            audit.Commands.Where(c => c.Command == "RCPT").Select(c => c.Arguments));

        // The accepted message is on record before the command that carried it.
        var kinds = audit.Events.Select(e => e.Kind).ToList();
        Assert.True(kinds.IndexOf(AuditKinds.Message) < kinds.LastIndexOf(AuditKinds.Command));
        Assert.Equal(["alice@example.test", "bob@example.test"], Assert.Single(audit.OfKind(AuditKinds.Message)).Recipients);
    }

    [Fact]
    public async Task Lines_that_do_not_parse_are_recorded_by_their_first_word_and_never_with_a_secret()
    {
        const string Secret = "hunter2hunter2";
        var audit = new RecordingAuditLog();
        await using var h = new SessionHarness(new SmtpServerOptions { HostName = "mx.test", ReverseDnsLookup = false, MaxProtocolErrors = 50 }, audit: audit);
        await h.StartAsync();
        await h.ExpectAsync("FOO bar", 500);
        await h.ExpectAsync("MAIL TO:<a@b.test>", 501);
        await h.ExpectAsync("NOOP " + new string('x', 2000), 500);
        await h.ExpectAsync("xyzzy " + new string('y', 600) + Secret, 500);
        await h.SendAsync("RSET\n");
        Assert.Equal(500, (await h.ReadReplyAsync()).Code);
        await h.ExpectAsync("AUTH PLAIN " + Plain("alice@example.test", Secret) + " junk", 501);
        await h.ExpectAsync("LOGN  " + Secret, 501);
        await h.ExpectAsync("LOGN alice@example.test " + Secret + "\u0001", 500);
        await h.ExpectAsync("auth\tplain " + Plain("alice@example.test", Secret), 500);

        // SASL responses nobody asked for, read as commands.
        await h.ExpectAsync(Base64(Secret), 500);
        await h.ExpectAsync(Plain("alice@example.test", Secret), 500);
        await h.ExpectAsync("unknown!verb-that-is-long", 500);

        // A password on a line of its own, the payload where AUTH's mechanism goes, a LOGN shifted
        // by 3 for an XCAESAR the server refused, and an HTTP probe, which is kept by name.
        await h.ExpectAsync("Tr0ub4dor&3" + Secret, 500);
        await h.ExpectAsync("AUTH AGFsaWNlAHB3MTIz", 538);
        await h.ExpectAsync(Shift("LOGN alice " + Secret, 3), 500);
        await h.ExpectAsync("GET / HTTP/1.1", 500);

        Assert.Equal(
            [
                ("EHLO", "client.test", "250"),
                (AuditText.Unknown, null, "500 5.5.1"),
                ("MAIL", "TO:<a@b.test>", "501 5.5.4"),
                ("NOOP", null, "500 5.5.2"),
                (AuditText.Unknown, null, "500 5.5.2"),
                ("RSET", null, "500 5.5.2"),
                ("AUTH", null, "501 5.5.4"),
                ("LOGN", null, "501 5.5.4"),
                ("LOGN", null, "500 5.5.2"),
                ("AUTH", null, "500 5.5.1"),
                (AuditText.Unknown, null, "500 5.5.1"),
                (AuditText.Unknown, null, "500 5.5.1"),
                (AuditText.Unknown, null, "500 5.5.1"),
                (AuditText.Unknown, null, "500 5.5.1"),
                ("AUTH", AuditText.Unknown, "538 5.7.11"),
                (AuditText.Unknown, null, "500 5.5.1"),
                ("GET", null, "500 5.5.1"),
            ],
            audit.Commands.Select(c => (c.Command, c.Arguments, c.Reply)));
        var log = audit.Serialised();
        Assert.DoesNotContain(Secret, log, StringComparison.Ordinal);
        Assert.DoesNotContain(Base64(Secret).TrimEnd('='), log, StringComparison.Ordinal);
        Assert.DoesNotContain(Plain("alice@example.test", Secret).TrimEnd('='), log, StringComparison.Ordinal);
        Assert.DoesNotContain(Plain("alice@example.test", Secret).TrimEnd('=').ToUpperInvariant(), log, StringComparison.Ordinal);
        Assert.DoesNotContain("TR0UB", log, StringComparison.Ordinal);
        Assert.DoesNotContain("AGFSAWNL", log.ToUpperInvariant(), StringComparison.Ordinal);
        Assert.DoesNotContain(Shift("LOGN", 3), log, StringComparison.Ordinal);
    }

    /// <summary>What a client that shifts every byte (the original design's Caesar mode) sends.</summary>
    private static string Shift(string text, int shift) => new(text.Select(c => (char)(c + shift)).ToArray());

    [Fact]
    public async Task The_session_is_framed_by_connect_and_disconnect_entries()
    {
        var audit = new RecordingAuditLog();
        await using var h = new SessionHarness(audit: audit);
        await h.StartTransactionAsync();
        await h.ExpectAsync("DATA", 354);
        await h.ExpectAsync("x\r\n.", 250);
        await h.ExpectAsync("QUIT", 221);
        Assert.Equal(SessionEnd.Quit, await h.Run);

        var connect = audit.Events[0];
        Assert.Equal((AuditKinds.Connect, AuditOutcome.Ok, "220", "127.0.0.1:25"), (connect.Kind, connect.Outcome, connect.Reply, connect.Detail));
        Assert.Equal(("test", "192.0.2.10:40000", "smtp"), (connect.Session, connect.Client, connect.Listener));
        var disconnect = audit.Events[^1];
        Assert.Equal((AuditKinds.Disconnect, AuditOutcome.Ok, "221 2.0.0", "Quit; 1 message(s) accepted"), (disconnect.Kind, disconnect.Outcome, disconnect.Reply, disconnect.Detail));
    }

    [Fact]
    public async Task A_data_transfer_cut_short_is_recorded_as_interrupted_and_the_session_end_says_why()
    {
        var audit = new RecordingAuditLog();
        await using var h = new SessionHarness(audit: audit);
        await h.StartTransactionAsync();
        await h.ExpectAsync("DATA", 354);
        await h.SendAsync("Subject: never finished\r\n");
        h.CloseClient();
        Assert.Equal(SessionEnd.ClientClosed, await h.Run);

        var data = audit.Commands[^1];
        Assert.Equal(("DATA", "354", AuditOutcome.Deferred, "interrupted: connection closed"), (data.Command, data.Reply, data.Outcome, data.Detail));
        Assert.Empty(audit.OfKind(AuditKinds.Message));
        var end = audit.Events[^1];
        Assert.Equal((AuditKinds.Disconnect, "ClientClosed; 0 message(s) accepted"), (end.Kind, end.Detail));
    }

    [Fact]
    public async Task Budget_overruns_end_the_session_with_the_421_in_the_disconnect_entry()
    {
        var audit = new RecordingAuditLog();
        await using var h = new SessionHarness(new SmtpServerOptions { HostName = "mx.test", ReverseDnsLookup = false, MaxProtocolErrors = 2 }, audit: audit);
        await h.StartAsync();
        await h.ExpectAsync("FOO", 500);
        await h.SendAsync("BAR\r\n");
        Assert.Equal(500, (await h.ReadReplyAsync()).Code);
        Assert.Equal(421, (await h.ReadReplyAsync()).Code);
        Assert.Equal(SessionEnd.TooManyErrors, await h.Run);

        // The command keeps its own reply; the 421 belongs to the end of the session.
        Assert.Equal("500 5.5.1", audit.Commands[^1].Reply);
        var end = audit.Events[^1];
        Assert.Equal((AuditKinds.Disconnect, AuditOutcome.Deferred, "421 4.7.0"), (end.Kind, end.Outcome, end.Reply));
    }

    [Fact]
    public async Task A_log_that_throws_from_record_does_not_disturb_the_session()
    {
        var audit = new RecordingAuditLog { RecordThrows = true };
        await using var h = new SessionHarness(audit: audit);
        await h.StartTransactionAsync();
        await h.ExpectAsync("DATA", 354);
        await h.ExpectAsync("x\r\n.", 250);
        await h.ExpectAsync("QUIT", 221);
        Assert.Equal(SessionEnd.Quit, await h.Run);
        Assert.Single(h.Store.Committed);

        // Only the durable entry got through; every other one was refused by the log.
        Assert.Equal(AuditKinds.Message, Assert.Single(audit.Events).Kind);
    }
}
