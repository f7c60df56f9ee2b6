using Mailroom.Core.Storage;

namespace Mailroom.Storage.Contract;

/// <summary>Mailing lists (<see cref="IListStore"/>).</summary>
public abstract class ListContract : StoreContract
{
    [Fact]
    public async Task A_list_address_cannot_also_be_an_account_or_a_shared_mailbox()
    {
        await AddUserAsync("alice@example.com");
        await Store.AddListAsync("staff@example.com", PostingPolicy.Anyone, None);
        await Assert.ThrowsAsync<DirectoryConflictException>(() => Store.AddAccountAsync("staff@example.com", "$test$hash", None));
        await Assert.ThrowsAsync<DirectoryConflictException>(() => Store.AddSharedMailboxAsync("Staff@example.com", None));
        await Assert.ThrowsAsync<DirectoryConflictException>(() => Store.AddListAsync("alice@example.com", PostingPolicy.Anyone, None));
    }
}
