using Mailroom.Core.Audit;
using Mailroom.Core.Storage;
using Mailroom.Server.Tests.Fakes;
using static Mailroom.Server.Tests.Sessions.AuditTestText;

namespace Mailroom.Server.Tests.Sessions;

/// <summary>
/// Who read, flagged or deleted what in a mailbox, from where and when: the entries the
/// mailbox commands leave, with deletions on disk before the reply that confirms them.
/// </summary>
public class AuditMailboxTests
{
    private const string Bob = SqliteSessionStore.Bob;
    private const string Support = SqliteSessionStore.Support;

    private static async Task<SessionHarness> LoggedInAsync(SqliteSessionStore db, RecordingAuditLog audit, AuditFailurePolicy policy = AuditFailurePolicy.Refuse)
    {
        var options = SqliteSessionStore.Options();
        options.AuditOnFailure = policy;
        var h = db.Session(audit, options);
        await h.StartAsync();
        await h.ExpectAsync($"LOGN {Bob} {SqliteSessionStore.Password}", 235);
        return h;
    }

    private static async Task<int> CountAsync(SqliteSessionStore db, string address)
    {
        var mailbox = (await db.Store.FindMailboxAsync(address, CancellationToken.None))!;
        var bob = (await db.Store.FindAccountAsync(Bob, CancellationToken.None))!;
        return (await db.Store.ListMailboxAsync(mailbox.Id, bob.Id, CancellationToken.None)).Count;
    }

    [Fact]
    public async Task Reading_flagging_and_deleting_in_a_shared_mailbox_leave_entries_with_the_mailbox_and_the_message()
    {
        await using var db = await SqliteSessionStore.CreateAsync();
        var first = await db.DeliverAsync(Support, "Subject: a\r\n\r\na\r\n");
        var second = await db.DeliverAsync(Support, "Subject: b\r\n\r\nb\r\n");
        var audit = new RecordingAuditLog();
        await using var h = await LoggedInAsync(db, audit);
        await h.ExpectAsync("READ " + Support, 250);
        await h.ReadBytesAsync(Octets(await h.ExpectAsync("NEXT", 250)));
        await h.ReadBytesAsync(Octets(await h.ExpectAsync("NEXT", 250)));
        await h.ReadBytesAsync(Octets(await h.ExpectAsync("PREV", 250)));
        await h.ExpectAsync("FLAG important", 250);
        await h.ExpectAsync("FLAG read off", 250);

        // DELE: the entry is on disk, after the message went to the trash, before any reply is queued.
        var entered = new TaskCompletionSource<(long Written, int Left)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        audit.BeforeDurable = async _ =>
        {
            entered.TrySetResult((h.BytesWritten, await CountAsync(db, Support)));
            await release.Task;
        };
        var before = h.BytesWritten;
        await h.SendAsync("DELE\r\n");
        var (written, left) = await entered.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(before, written);
        Assert.Equal(1, left);
        release.SetResult();
        Assert.Equal("1 message(s) moved to the trash", (await h.ReadReplyAsync()).Lines[0]);
        audit.BeforeDurable = null;

        Assert.Equal("1 message(s) moved to the trash", (await h.ExpectAsync("DELE " + Support, 250)).Lines[0]);

        // One query answers "who did what in support@, from where, and when".
        var inSupport = audit.Events.Where(e => e.Mailbox == Support).ToList();
        Assert.Equal(
            [
                (AuditKinds.MailboxOpen, null, "2 message(s)"),
                (AuditKinds.MailboxRead, first, null),
                (AuditKinds.MailboxRead, second, null),
                (AuditKinds.MailboxRead, first, null),
                (AuditKinds.MailboxFlag, first, "important on"),
                (AuditKinds.MailboxFlag, first, "read off"),
                (AuditKinds.MailboxDelete, first, "1 message(s)"),
                (AuditKinds.MailboxDelete, null, "all 1 message(s)"),
            ],
            inSupport.Select(e => (e.Kind, e.MessageId, e.Detail)));
        Assert.All(inSupport, e => Assert.Equal((Bob, "127.0.0.1:40000", "test", AuditOutcome.Ok), (e.User, e.Client, e.Session, e.Outcome)));
        Assert.Equal(inSupport.Where(e => e.Kind == AuditKinds.MailboxDelete), audit.DurableEvents);
    }

    [Fact]
    public async Task Refusals_leave_only_the_command_entry()
    {
        await using var db = await SqliteSessionStore.CreateAsync();
        await db.DeliverAsync(Support, "Subject: a\r\n\r\na\r\n");
        var audit = new RecordingAuditLog();
        await using var h = db.Session(audit);
        await h.StartAsync();
        await h.ExpectAsync($"LOGN {SqliteSessionStore.Alice} {SqliteSessionStore.Password}", 235);
        await h.ExpectAsync("READ bob@example.test", 550);
        await h.ExpectAsync("READ " + Support, 250);
        await h.ReadBytesAsync(Octets(await h.ExpectAsync("NEXT", 250)));

        // Alice may read support@, not flag or delete in it.
        await h.ExpectAsync("FLAG important", 550);
        await h.ExpectAsync("DELE", 550);
        Assert.Equal([AuditKinds.MailboxOpen, AuditKinds.MailboxRead], audit.Events.Where(e => e.Mailbox is not null).Select(e => e.Kind));
        Assert.Equal(
            [("READ", "550 5.1.1"), ("FLAG", "550 5.7.1"), ("DELE", "550 5.7.1")],
            audit.Commands.Where(c => c.Outcome == AuditOutcome.Refused).Select(c => (c.Command!, c.Reply!)));
    }

    [Fact]
    public async Task Refuse_policy_an_unwritable_log_turns_dele_and_flag_away_and_nothing_is_deleted()
    {
        await using var db = await SqliteSessionStore.CreateAsync();
        await db.DeliverAsync(Support, "Subject: a\r\n\r\na\r\n");
        var audit = new RecordingAuditLog();
        await using var h = await LoggedInAsync(db, audit);
        await h.ExpectAsync("READ " + Support, 250);
        await h.ReadBytesAsync(Octets(await h.ExpectAsync("NEXT", 250)));
        audit.IsWritable = false;
        Assert.Equal("4.3.0", (await h.ExpectAsync("DELE", 451)).Enhanced.ToString());
        Assert.Equal("4.3.0", (await h.ExpectAsync("DELE " + Support, 451)).Enhanced.ToString());
        Assert.Equal("4.3.0", (await h.ExpectAsync("FLAG important", 451)).Enhanced.ToString());

        // Reading marks a message read, and opening or reading is a mailbox action the log must show.
        Assert.Equal("4.3.0", (await h.ExpectAsync("PREV", 451)).Enhanced.ToString());
        Assert.Equal("4.3.0", (await h.ExpectAsync("NEXT", 451)).Enhanced.ToString());
        Assert.Equal("4.3.0", (await h.ExpectAsync("READ " + Support, 451)).Enhanced.ToString());
        Assert.Equal(1, await CountAsync(db, Support));
        Assert.DoesNotContain(audit.Events, e => e.Kind is AuditKinds.MailboxDelete or AuditKinds.MailboxFlag);
        Assert.Single(audit.Events, e => e.Kind is AuditKinds.MailboxRead);
        Assert.Single(audit.Events, e => e.Kind is AuditKinds.MailboxOpen);

        audit.IsWritable = true;
        await h.ExpectAsync("DELE", 250);
        Assert.Equal(0, await CountAsync(db, Support));
    }

    [Theory]
    [InlineData(AuditFailurePolicy.Refuse, 451)]
    [InlineData(AuditFailurePolicy.Continue, 250)]
    public async Task A_deletion_whose_entry_cannot_be_written_stands_and_is_answered_as_the_policy_says(AuditFailurePolicy policy, int code)
    {
        await using var db = await SqliteSessionStore.CreateAsync();
        await db.DeliverAsync(Support, "Subject: a\r\n\r\na\r\n");
        var audit = new RecordingAuditLog();
        await using var h = await LoggedInAsync(db, audit, policy);
        await h.ExpectAsync("READ " + Support, 250);
        await h.ReadBytesAsync(Octets(await h.ExpectAsync("NEXT", 250)));
        audit.DurableFailure = new AuditLogException("disk full");
        var reply = await h.ExpectAsync("DELE", code);
        Assert.Equal(code == 451 ? "4.3.0" : "2.0.0", reply.Enhanced.ToString());

        // In the trash either way: restorable, and never confirmed unaudited under Refuse.
        Assert.Equal(0, await CountAsync(db, Support));
        Assert.Empty(audit.OfKind(AuditKinds.MailboxDelete));
        await h.ExpectAsync("LIST", 250);
    }
}
