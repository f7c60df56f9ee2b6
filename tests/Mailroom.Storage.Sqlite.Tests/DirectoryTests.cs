using Mailroom.Core.Storage;

namespace Mailroom.Storage.Sqlite.Tests;

/// <summary>
/// Directory behaviour that depends on SQLite's body files; the rest is in the store contract
/// (<see cref="SqliteDirectoryContract"/>).
/// </summary>
public sealed class DirectoryTests : TempStore
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task RemovingAnAccountRemovesItsMailAndOnlyItsMail()
    {
        var alice = await AddUserAsync("alice@example.com");
        var bob = await AddUserAsync("bob@example.com");
        var shared = await DeliverAsync("Subject: both\r\n\r\nhi\r\n"u8.ToArray(), alice, bob);
        var own = await DeliverAsync("Subject: alice only\r\n\r\nhi\r\n"u8.ToArray(), alice);

        Assert.True(await Store.RemoveAccountAsync("ALICE@example.com", None));

        Assert.Null(await Store.FindMailboxAsync("alice@example.com", None));
        var left = Assert.Single(await Store.ListMessagesAsync(null, None));
        Assert.Equal((shared, "bob@example.com"), (left.MessageId, left.Mailbox));
        Assert.Null(await Store.OpenMessageAsync(own, None));
        Assert.Single(BodyFiles());
        Assert.False(await Store.RemoveAccountAsync("alice@example.com", None));
    }
}
