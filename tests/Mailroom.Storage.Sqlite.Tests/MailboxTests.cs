using System.Text;
using Mailroom.Core.Storage;

namespace Mailroom.Storage.Sqlite.Tests;

/// <summary>What is in a mailbox, per-reader flags, the trash and its purge, on a real SQLite file.</summary>
public sealed class MailboxTests : TempStore
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static byte[] Body(string subject) => Encoding.ASCII.GetBytes($"Subject: {subject}\r\n\r\nbody\r\n");

    private async Task<long> AccountIdAsync(string address) => (await Store.FindAccountAsync(address, None))!.Id;

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
    public async Task Purging_deletes_old_trash_and_bodies_no_mailbox_holds_any_more()
    {
        var alice = await AddUserAsync("alice@example.com");
        var bob = await AddUserAsync("bob@example.com");
        var reader = await AccountIdAsync("alice@example.com");
        var onlyAlice = await DeliverAsync(Body("only alice"), alice);
        var shared = await DeliverAsync(Body("shared"), alice, bob);
        Assert.Equal(2, await Store.TrashAsync(alice.Id, null, None));
        var filesBefore = BodyFiles().Length;

        // Trash younger than the cut-off stays.
        Assert.Equal(0, await Store.PurgeTrashAsync(DateTimeOffset.UtcNow.AddDays(-30), None));
        Assert.Equal(2, await Store.RestoreAsync(alice.Id, None));
        Assert.Equal(2, await Store.TrashAsync(alice.Id, null, None));

        Assert.Equal(2, await Store.PurgeTrashAsync(DateTimeOffset.UtcNow.AddMinutes(1), None));
        Assert.Equal(1, await Store.TrashAsync(bob.Id, null, None));
        Assert.Equal(1, await Store.RestoreAsync(bob.Id, None));
        Assert.Equal(0, await Store.RestoreAsync(alice.Id, None));
        Assert.Empty(await Store.ListMailboxAsync(alice.Id, reader, None));
        Assert.Null(await Store.OpenMessageAsync(onlyAlice, None));
        Assert.Equal(filesBefore - 1, BodyFiles().Length);

        // Bob still has the shared message, body and all.
        await using var body = await Store.OpenMessageAsync(shared, None);
        Assert.NotNull(body);
        Assert.Equal("shared", Assert.Single(await Store.ListMailboxAsync(bob.Id, reader, None)).Subject);
    }

    /// <summary>A database made by the first schema is upgraded in place, its mail intact.</summary>
    [Fact]
    public async Task A_version_1_database_is_migrated_and_keeps_its_mail()
    {
        var alice = await AddUserAsync("alice@example.com");
        var id = await DeliverAsync(Body("from v1"), alice);
        await Store.DisposeAsync();
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(DataDirectory, SqliteMailStore.DatabaseFileName)};Pooling=False"))
        {
            connection.Open();
            using var downgrade = connection.CreateCommand();
            downgrade.CommandText = """
                DROP TABLE list_senders;
                DROP TABLE list_members;
                DROP TABLE lists;
                DROP TABLE mailbox_rights;
                DROP TABLE delivery_flags;
                DROP INDEX deliveries_trashed;
                ALTER TABLE deliveries DROP COLUMN trashed_utc;
                DELETE FROM schema_version WHERE version >= 2;
                """;
            downgrade.ExecuteNonQuery();
        }

        await ReopenAsync();
        var entry = Assert.Single(await Store.ListMailboxAsync(alice.Id, await AccountIdAsync("alice@example.com"), None));
        Assert.Equal(id, entry.MessageId);
        Assert.Equal(1, await Store.TrashAsync(alice.Id, null, None));
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
        Assert.False(await Store.RemoveSharedMailboxAsync("alice@example.com", None));
        Assert.True(await Store.RemoveSharedMailboxAsync("support@example.com", None));
        Assert.Null(await Store.FindMailboxAsync("support@example.com", None));
        Assert.Null(await Store.OpenMessageAsync(onlySupport, None));
        await using var kept = await Store.OpenMessageAsync(both, None);
        Assert.NotNull(kept);
        Assert.False(await Store.RemoveSharedMailboxAsync("support@example.com", None));
    }

    [Theory]
    [InlineData("r", MailboxRights.Read)]
    [InlineData("RMDA", MailboxRights.All)]
    [InlineData("md", MailboxRights.Mark | MailboxRights.Delete)]
    public void Rights_letters_parse_and_format(string text, MailboxRights rights)
    {
        Assert.True(MailboxRightsText.TryParse(text, out var parsed));
        Assert.Equal(rights, parsed);
        Assert.Equal(text.ToLowerInvariant(), MailboxRightsText.Format(parsed));
        Assert.False(MailboxRightsText.TryParse("rx", out _));
        Assert.False(MailboxRightsText.TryParse(string.Empty, out _));
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
        Assert.Equal(1, await Store.RestoreAsync(alice.Id, None));
        Assert.Equal(1, await Store.TrashAsync(alice.Id, null, None));
        Assert.Equal(1, await new TrashPurger(Store, TrashPurger.DefaultRetention, new Clock(now.AddDays(31)), audit).PurgeAsync(None));
        Assert.Equal(0, await Store.RestoreAsync(alice.Id, None));

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

    [Fact]
    public async Task A_list_address_cannot_also_be_an_account_or_a_shared_mailbox()
    {
        await AddUserAsync("alice@example.com");
        await Store.AddListAsync("staff@example.com", PostingPolicy.Anyone, None);
        await Assert.ThrowsAsync<DirectoryConflictException>(() => Store.AddAccountAsync("staff@example.com", "$test$hash", None));
        await Assert.ThrowsAsync<DirectoryConflictException>(() => Store.AddSharedMailboxAsync("Staff@example.com", None));
        await Assert.ThrowsAsync<DirectoryConflictException>(() => Store.AddListAsync("alice@example.com", PostingPolicy.Anyone, None));
    }

    [Fact]
    public async Task A_purge_counts_every_delivery_that_leaves_the_trash()
    {
        var alice = await AddUserAsync("alice@example.com");
        var bob = await AddUserAsync("bob@example.com");
        await DeliverAsync(Body("to both"), alice, bob);
        await Store.TrashAsync(alice.Id, null, None);
        await Store.TrashAsync(bob.Id, null, None);
        Assert.Equal(2, await Store.PurgeTrashAsync(DateTimeOffset.UtcNow.AddMinutes(1), None));
        Assert.DoesNotContain(BodyFiles(), f => !f.Contains("tmp", StringComparison.Ordinal));
    }
}
