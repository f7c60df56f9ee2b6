using System.Text;
using Mailroom.Core.Audit;
using Mailroom.Server.Tests.Fakes;

namespace Mailroom.Server.Tests.Sessions;

/// <summary>
/// An accepted message is on the audit log's disk before its 250 is even queued, and an audit log
/// that cannot be written turns work away (or not) as <see cref="SmtpServerOptions.AuditOnFailure"/> says.
/// </summary>
public class AuditDurabilityTests
{
    private static SmtpServerOptions Options(AuditFailurePolicy policy = AuditFailurePolicy.Refuse) =>
        new() { HostName = "mx.test", ReverseDnsLookup = false, AuditOnFailure = policy };

    [Fact]
    public async Task The_message_entry_is_on_disk_before_the_250_is_queued()
    {
        const string Content = "Subject: held\r\n\r\nthe body, which the audit log never sees\r\n";
        var audit = new RecordingAuditLog();
        await using var h = new SessionHarness(audit: audit);
        var entered = new TaskCompletionSource<(long Written, int Committed)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        audit.BeforeDurable = async _ =>
        {
            entered.TrySetResult((h.BytesWritten, h.Store.Committed.Count));
            await release.Task;
        };

        await h.StartTransactionAsync();
        await h.ExpectAsync("DATA", 354);
        var before = h.BytesWritten;
        await h.SendAsync(Content + ".\r\n");
        var (written, committed) = await entered.Task.WaitAsync(TimeSpan.FromSeconds(20));

        // The store has the message, and not one octet of reply was queued behind it.
        Assert.Equal(1, committed);
        Assert.Equal(before, written);
        Assert.DoesNotContain(audit.Events, e => e.Kind == AuditKinds.Message);

        // Nor is one queued while the write is held: a server that started the write and
        // replied without waiting for it would queue its 250 (and the pipelined NOOP's) now.
        // Absence has no event to await, so the test watches for a while.
        await h.SendAsync("NOOP\r\n");
        for (var i = 0; i < 40 && h.BytesWritten == before; i++)
        {
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }

        Assert.True(h.BytesWritten == before, $"{h.BytesWritten - before} octets of reply were queued while the audit entry was not yet on disk");
        Assert.Empty(audit.DurableEvents);
        release.SetResult();

        var reply = await h.ReadReplyAsync();
        Assert.Equal(250, reply.Code);
        Assert.Equal(250, (await h.ReadReplyAsync()).Code);
        var entry = Assert.Single(audit.DurableEvents);
        Assert.Equal((AuditKinds.Message, AuditOutcome.Ok), (entry.Kind, entry.Outcome));
        var (envelope, _) = Assert.Single(h.Store.Committed.Values);
        Assert.Equal(envelope.MessageId, entry.MessageId);
        Assert.Contains(entry.MessageId!, reply.Lines[0], StringComparison.Ordinal);
        Assert.Equal(Encoding.ASCII.GetByteCount(Content), entry.Size);
        Assert.Equal(["alice@example.test"], entry.Recipients);
        Assert.Null(entry.Detail);
        Assert.Equal(("test", "192.0.2.10:40000", "smtp", null), (entry.Session, entry.Client, entry.Listener, entry.User));
        Assert.Equal(1, h.Session.MessagesAccepted);
        Assert.DoesNotContain("the body", audit.Serialised(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bdat_last_records_its_message_durably_and_never_a_chunk()
    {
        var audit = new RecordingAuditLog();
        await using var h = new SessionHarness(audit: audit);
        await h.StartTransactionAsync();
        await h.ExpectAsync("RCPT TO:<Bob@Example.Test>", 250);
        await h.SendAsync("BDAT 11\r\nchunk-one\r\nBDAT 11 LAST\r\nchunk-two\r\n");
        Assert.Equal(250, (await h.ReadReplyAsync()).Code);
        var last = await h.ReadReplyAsync();
        Assert.Equal(250, last.Code);

        var entry = Assert.Single(audit.DurableEvents);
        Assert.Equal(AuditKinds.Message, entry.Kind);
        Assert.Contains(entry.MessageId!, last.Lines[0], StringComparison.Ordinal);
        Assert.Equal(22, entry.Size);
        Assert.Equal(["alice@example.test", "Bob@Example.Test"], entry.Recipients);
        Assert.Equal(["11", "11 LAST"], audit.Commands.Where(c => c.Command == "BDAT").Select(c => c.Arguments));
        Assert.DoesNotContain("chunk-", audit.Serialised(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refuse_policy_an_unwritable_log_turns_mail_away_with_451_until_it_recovers()
    {
        var audit = new RecordingAuditLog { IsWritable = false };
        await using var h = new SessionHarness(Options(), audit: audit);
        await h.StartAsync();
        var refused = await h.ExpectAsync("MAIL FROM:<s@remote.test>", 451);
        Assert.Equal("4.3.0", refused.Enhanced.ToString());
        await h.ExpectAsync("RCPT TO:<alice@example.test>", 503);

        // Commands that change nothing still work.
        await h.ExpectAsync("NOOP", 250);

        audit.IsWritable = true;
        await h.ExpectAsync("MAIL FROM:<s@remote.test>", 250);
        await h.ExpectAsync("RCPT TO:<alice@example.test>", 250);
        await h.ExpectAsync("DATA", 354);
        await h.ExpectAsync("x\r\n.", 250);
        Assert.Contains(audit.Commands, c => c is { Command: "MAIL", Reply: "451 4.3.0", Outcome: AuditOutcome.Deferred });
    }

    [Fact]
    public async Task Refuse_policy_a_message_stored_but_not_audited_gets_451_and_is_kept()
    {
        var audit = new RecordingAuditLog { DurableFailure = new AuditLogException("disk full") };
        await using var h = new SessionHarness(Options(), audit: audit);
        await h.StartTransactionAsync();
        await h.ExpectAsync("DATA", 354);
        var reply = await h.ExpectAsync("x\r\n.", 451);
        Assert.Equal("4.3.0", reply.Enhanced.ToString());

        // The message stays: a retry may bring a duplicate, which beats a 250 nobody audited.
        Assert.Single(h.Store.Committed);
        Assert.Equal(0, h.Session.MessagesAccepted);
        Assert.Empty(audit.OfKind(AuditKinds.Message));
        Assert.Equal("451 4.3.0", audit.Commands[^1].Reply);

        // The session goes on, and once the log is back the next message is confirmed.
        audit.DurableFailure = null;
        await h.ExpectAsync("MAIL FROM:<s@remote.test>", 250);
        await h.ExpectAsync("RCPT TO:<alice@example.test>", 250);
        await h.ExpectAsync("DATA", 354);
        await h.ExpectAsync("y\r\n.", 250);
        Assert.Single(audit.OfKind(AuditKinds.Message));
    }

    [Fact]
    public async Task Refuse_policy_a_log_that_never_answers_gets_451_after_the_command_timeout()
    {
        var audit = new RecordingAuditLog { BeforeDurable = _ => Task.Delay(Timeout.Infinite) };
        var options = Options();
        options.CommandTimeout = TimeSpan.FromSeconds(1.5);
        await using var h = new SessionHarness(options, audit: audit);
        await h.StartTransactionAsync();
        await h.ExpectAsync("DATA", 354);
        Assert.Equal("4.3.0", (await h.ExpectAsync("x\r\n.", 451)).Enhanced.ToString());
        Assert.Single(h.Store.Committed);
    }

    [Fact]
    public async Task Continue_policy_mail_flows_and_is_confirmed_while_the_log_cannot_be_written()
    {
        var audit = new RecordingAuditLog { IsWritable = false, DurableFailure = new AuditLogException("disk full") };
        await using var h = new SessionHarness(Options(AuditFailurePolicy.Continue), audit: audit);
        await h.StartTransactionAsync();
        await h.ExpectAsync("DATA", 354);
        await h.ExpectAsync("x\r\n.", 250);
        Assert.Single(h.Store.Committed);
        Assert.Equal(1, h.Session.MessagesAccepted);
    }
}
