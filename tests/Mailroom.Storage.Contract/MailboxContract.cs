using System.Text;
using Mailroom.Core.Storage;

namespace Mailroom.Storage.Contract;

/// <summary>What is in a mailbox, per-reader flags, rights, the trash and its purge (<see cref="IMailboxStore"/>).</summary>
public abstract class MailboxContract : StoreContract
{
    private static byte[] Body(string subject) => Encoding.ASCII.GetBytes($"Subject: {subject}\r\n\r\nbody\r\n");

    [Fact]
    public async Task A_mailbox_lists_its_messages_oldest_first_unread_and_unflagged()
    {
        var alice = await AddUserAsync("alice@example.com");
        var first = await DeliverAsync(Body("first"), alice);
        var second = await DeliverAsync(Body("second"), alice);
        var entries = await Store.ListMailboxAsync(alice.Id, await AccountIdAsync("alice@example.com"), None);
        Assert.Equal([first, second], entries.Select(e => e.MessageId));
        Assert.Equal(["first", "second"], entries.Select(e => e.Subject));
        Assert.All(entries, e => Assert.False(e.Read || e.Important));
        Assert.NotEqual(entries[0].DeliveryId, entries[1].DeliveryId);
    }

    [Fact]
    public async Task Flags_belong_to_the_reader_so_a_shared_mailbox_keeps_read_state_per_user()
    {
        await AddUserAsync("alice@example.com");
        await AddUserAsync("bob@example.com");
        var support = await Store.EnsureSystemMailboxAsync("support@example.com", None);
        await DeliverAsync(Body("ticket"), support);
        var alice = await AccountIdAsync("alice@example.com");
        var bob = await AccountIdAsync("bob@example.com");
        var delivery = (await Store.ListMailboxAsync(support.Id, alice, None))[0].DeliveryId;

        Assert.True(await Store.SetFlagAsync(support.Id, delivery, alice, FlagKind.Read, true, None));
        Assert.True(await Store.SetFlagAsync(support.Id, delivery, alice, FlagKind.Important, true, None));
        Assert.True(await Store.SetFlagAsync(support.Id, delivery, alice, FlagKind.Important, false, None));
        var forAlice = Assert.Single(await Store.ListMailboxAsync(support.Id, alice, None));
        var forBob = Assert.Single(await Store.ListMailboxAsync(support.Id, bob, None));
        Assert.True(forAlice.Read);
        Assert.False(forAlice.Important);
        Assert.False(forBob.Read);

        await ReopenAsync();
        Assert.True(Assert.Single(await Store.ListMailboxAsync(support.Id, alice, None)).Read);
    }

    [Fact]
    public async Task A_flag_cannot_be_set_through_another_mailbox_or_on_a_trashed_message()
    {
        var alice = await AddUserAsync("alice@example.com");
        var bob = await AddUserAsync("bob@example.com");
        await DeliverAsync(Body("private"), bob);
        var aliceId = await AccountIdAsync("alice@example.com");
        var bobsDelivery = (await Store.ListMailboxAsync(bob.Id, aliceId, None))[0].DeliveryId;
        Assert.False(await Store.SetFlagAsync(alice.Id, bobsDelivery, aliceId, FlagKind.Read, true, None));
        Assert.Equal(1, await Store.TrashAsync(bob.Id, bobsDelivery, None));
        Assert.False(await Store.SetFlagAsync(bob.Id, bobsDelivery, aliceId, FlagKind.Read, true, None));
    }

    [Fact]
    public async Task Trash_one_or_all_then_restore_with_flags_kept()
    {
        var alice = await AddUserAsync("alice@example.com");
        var reader = await AccountIdAsync("alice@example.com");
        for (var i = 0; i < 3; i++)
        {
            await DeliverAsync(Body("m" + i), alice);
        }

        var entries = await Store.ListMailboxAsync(alice.Id, reader, None);
        await Store.SetFlagAsync(alice.Id, entries[0].DeliveryId, reader, FlagKind.Important, true, None);
        Assert.Equal(1, await Store.TrashAsync(alice.Id, entries[1].DeliveryId, None));
        Assert.Equal(["m0", "m2"], (await Store.ListMailboxAsync(alice.Id, reader, None)).Select(e => e.Subject));
        Assert.Equal(0, await Store.TrashAsync(alice.Id, entries[1].DeliveryId, None));
        Assert.Equal(2, await Store.TrashAsync(alice.Id, null, None));
        Assert.Empty(await Store.ListMailboxAsync(alice.Id, reader, None));
        Assert.Empty(await Store.ListMessagesAsync("alice@example.com", None));

        Assert.Equal(3, await Store.RestoreAsync(alice.Id, None));
        var back = await Store.ListMailboxAsync(alice.Id, reader, None);
        Assert.Equal(["m0", "m1", "m2"], back.Select(e => e.Subject));
        Assert.True(back[0].Important);
    }

    [Fact]
    public async Task Rights_on_a_shared_mailbox_are_per_user_and_an_owner_has_them_all()
    {
        var alice = await AddUserAsync("alice@example.com");
        await AddUserAsync("bob@example.com");
        var aliceId = await AccountIdAsync("alice@example.com");
        var bobId = await AccountIdAsync("bob@example.com");
        var support = await Store.AddSharedMailboxAsync("Support@Example.com", None);
        Assert.Equal("support@example.com", support.Address);
        await Assert.ThrowsAsync<DirectoryConflictException>(() => Store.AddSharedMailboxAsync("support@example.com", None));
        await Assert.ThrowsAsync<DirectoryConflictException>(() => Store.AddSharedMailboxAsync("x@elsewhere.example", None));

        Assert.Equal(MailboxRights.All, await Store.GetRightsAsync(alice.Id, aliceId, None));
        Assert.Equal(MailboxRights.None, await Store.GetRightsAsync(alice.Id, bobId, None));
        Assert.Equal(MailboxRights.None, await Store.GetRightsAsync(support.Id, aliceId, None));
        await Store.SetRightsAsync(support.Id, aliceId, MailboxRights.Read | MailboxRights.Mark, None);
        await Store.SetRightsAsync(support.Id, bobId, MailboxRights.All, None);
        Assert.Equal(MailboxRights.Read | MailboxRights.Mark, await Store.GetRightsAsync(support.Id, aliceId, None));
        Assert.Equal(["alice@example.com rm", "bob@example.com rmda"], (await Store.ListGrantsAsync(support.Id, None)).Select(g => $"{g.User} {MailboxRightsText.Format(g.Rights)}"));
        await Store.SetRightsAsync(support.Id, aliceId, MailboxRights.None, None);
        Assert.Equal(MailboxRights.None, await Store.GetRightsAsync(support.Id, aliceId, None));
        Assert.Contains(support, await Store.ListMailboxesAsync(None));
    }

    [Fact]
    public async Task Removing_a_shared_mailbox_removes_its_messages_but_not_a_personal_one()
    {
        var alice = await AddUserAsync("alice@example.com");
        var support = await Store.AddSharedMailboxAsync("support@example.com", None);
        var onlySupport = await DeliverAsync(Body("only support"), support);
        var both = await DeliverAsync(Body("both"), support, alice);
        Assert.Equal(2, await CountStoredBodiesAsync());
        Assert.False(await Store.RemoveSharedMailboxAsync("alice@example.com", None));
        Assert.True(await Store.RemoveSharedMailboxAsync("support@example.com", None));
        Assert.Null(await Store.FindMailboxAsync("support@example.com", None));
        Assert.Null(await Store.OpenMessageAsync(onlySupport, None));
        await using (var kept = await Store.OpenMessageAsync(both, None))
        {
            Assert.NotNull(kept);
        }

        Assert.Equal(1, await CountStoredBodiesAsync());
        Assert.False(await Store.RemoveSharedMailboxAsync("support@example.com", None));
    }

    [Fact]
    public async Task A_body_shared_by_two_mailboxes_survives_removing_one_and_goes_with_the_second()
    {
        var alice = await AddUserAsync("alice@example.com");
        var support = await Store.AddSharedMailboxAsync("support@example.com", None);
        var sales = await Store.AddSharedMailboxAsync("sales@example.com", None);
        var shared = await DeliverAsync(Body("shared"), support, sales);
        await DeliverAsync(Body("alice's own"), alice);
        Assert.Equal(2, await CountStoredBodiesAsync());

        Assert.True(await Store.RemoveSharedMailboxAsync("support@example.com", None));
        Assert.Equal(2, await CountStoredBodiesAsync());
        await using (var kept = await Store.OpenMessageAsync(shared, None))
        {
            Assert.NotNull(kept);
        }

        Assert.True(await Store.RemoveSharedMailboxAsync("sales@example.com", None));
        Assert.Equal(1, await CountStoredBodiesAsync());
        Assert.Null(await Store.OpenMessageAsync(shared, None));
    }

    [Fact]
    public async Task Removing_an_account_removes_the_bodies_only_it_held()
    {
        var alice = await AddUserAsync("alice@example.com");
        var bob = await AddUserAsync("bob@example.com");
        var onlyAlice = await DeliverAsync(Body("only alice"), alice);
        await DeliverAsync(Body("alice again"), alice);
        var both = await DeliverAsync(Body("both"), alice, bob);
        Assert.Equal(3, await CountStoredBodiesAsync());

        Assert.True(await Store.RemoveAccountAsync("alice@example.com", None));

        Assert.Equal(1, await CountStoredBodiesAsync());
        Assert.Null(await Store.OpenMessageAsync(onlyAlice, None));
        await using (var kept = await Store.OpenMessageAsync(both, None))
        {
            Assert.NotNull(kept);
        }

        Assert.True(await Store.RemoveAccountAsync("bob@example.com", None));
        Assert.Equal(0, await CountStoredBodiesAsync());
    }

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public async Task The_trash_keeps_deleted_mail_for_the_retention_then_purges_it()
    {
        var alice = await AddUserAsync("alice@example.com");
        await DeliverAsync(Body("deleted"), alice);
        Assert.Equal(1, await Store.TrashAsync(alice.Id, null, None));
        var now = DateTimeOffset.UtcNow;
        var audit = new Recorded();
        Assert.Equal(0, await new TrashPurger(Store, TrashPurger.DefaultRetention, new Clock(now.AddDays(29)), audit).PurgeAsync(None));
        Assert.Empty(audit.Events);
        Assert.Equal(1, await CountStoredBodiesAsync());
        Assert.Equal(1, await Store.RestoreAsync(alice.Id, None));
        Assert.Equal(1, await Store.TrashAsync(alice.Id, null, None));
        Assert.Equal(1, await new TrashPurger(Store, TrashPurger.DefaultRetention, new Clock(now.AddDays(31)), audit).PurgeAsync(None));
        Assert.Equal(0, await Store.RestoreAsync(alice.Id, None));
        Assert.Equal(0, await CountStoredBodiesAsync());

        // Mail gone for good is a mailbox action the audit log shows.
        var purge = Assert.Single(audit.Events);
        Assert.Equal(Mailroom.Core.Audit.AuditKinds.MailboxPurge, purge.Kind);
        Assert.StartsWith("1 message(s) deleted for good", purge.Detail, StringComparison.Ordinal);
    }

    private sealed class Recorded : Mailroom.Core.Audit.IAuditLog
    {
        public List<Mailroom.Core.Audit.AuditEvent> Events { get; } = [];

        public bool IsWritable => true;

        public void Record(Mailroom.Core.Audit.AuditEvent entry) => Events.Add(entry);

        public ValueTask RecordDurableAsync(Mailroom.Core.Audit.AuditEvent entry, CancellationToken cancellationToken)
        {
            Events.Add(entry);
            return ValueTask.CompletedTask;
        }
    }
}
