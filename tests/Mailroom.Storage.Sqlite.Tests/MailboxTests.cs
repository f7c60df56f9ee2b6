using System.Text;
using Mailroom.Core.Storage;

namespace Mailroom.Storage.Sqlite.Tests;

/// <summary>
/// Mailbox behaviour that depends on SQLite (body files, schema migration); the rest is in the store
/// contract (<see cref="SqliteMailboxContract"/>).
/// </summary>
public sealed class MailboxTests : TempStore
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static byte[] Body(string subject) => Encoding.ASCII.GetBytes($"Subject: {subject}\r\n\r\nbody\r\n");

    private async Task<long> AccountIdAsync(string address) => (await Store.FindAccountAsync(address, None))!.Id;

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
                DROP TABLE server_secrets;
                DROP TABLE message_bodies;
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
        Assert.Equal([5], await Store.GetOrAddSecretAsync("after-migration", [5], None));
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
