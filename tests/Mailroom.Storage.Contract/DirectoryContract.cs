using Mailroom.Core.Storage;

namespace Mailroom.Storage.Contract;

/// <summary>Domains, accounts and mailbox lookup (<see cref="IDirectoryStore"/>).</summary>
public abstract class DirectoryContract : StoreContract
{
    [Fact]
    public async Task DomainsAreAddedListedAndRemovedInLowerCase()
    {
        Assert.True(await Store.AddDomainAsync("Example.COM", None));
        Assert.False(await Store.AddDomainAsync("example.com", None));
        Assert.True(await Store.AddDomainAsync("b.example", None));

        Assert.Equal(["b.example", "example.com"], await Store.ListDomainsAsync(None));
        Assert.True(await Store.IsLocalDomainAsync("EXAMPLE.com", None));
        Assert.False(await Store.IsLocalDomainAsync("other.example", None));

        Assert.True(await Store.RemoveDomainAsync("EXAMPLE.COM", None));
        Assert.False(await Store.RemoveDomainAsync("example.com", None));
        Assert.Equal(["b.example"], await Store.ListDomainsAsync(None));
    }

    /// <summary>The first value stored under a name stays, through later candidates, callers racing and a restart.</summary>
    [Fact]
    public async Task ASecretIsStoredByTheFirstCallerAndKeptForEveryLaterOne()
    {
        byte[] first = [1, 2, 3, 4];
        Assert.Equal(first, await Store.GetOrAddSecretAsync("test-secret", first, None));
        Assert.Equal(first, await Store.GetOrAddSecretAsync("test-secret", [9, 9], None));

        // Racers that all find the name missing reach the write together, where the first must
        // win for all of them: twenty names make that race happen, not just once by luck.
        var raced = new List<byte[]>();
        for (var name = 0; name < 20; name++)
        {
            var racing = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => Store.GetOrAddSecretAsync($"raced-{name}", [(byte)i, 42], None))));
            Assert.True(racing.Select(Convert.ToHexString).Distinct().Count() == 1, $"raced-{name}: the racers got {string.Join(", ", racing.Select(Convert.ToHexString))}");
            Assert.Equal(42, racing[0][1]);
            raced.Add(racing[0]);
        }

        await ReopenAsync();
        Assert.Equal(first, await Store.GetOrAddSecretAsync("test-secret", [7], None));
        Assert.Equal(raced[19], await Store.GetOrAddSecretAsync("raced-19", [7], None));
        Assert.Equal([7], await Store.GetOrAddSecretAsync("another", [7], None));
    }

    [Fact]
    public async Task AddingAnAccountRequiresALocalDomain()
    {
        var conflict = await Assert.ThrowsAsync<DirectoryConflictException>(
            () => Store.AddAccountAsync("alice@nowhere.example", "$h", None));

        Assert.Contains("nowhere.example is not a local domain", conflict.Message, StringComparison.Ordinal);
        Assert.Contains("mailroom domain add nowhere.example", conflict.Message, StringComparison.Ordinal);
        Assert.Empty(await Store.ListAccountsAsync(None));
    }

    [Fact]
    public async Task AddingAnAccountCreatesItsInbox()
    {
        await Store.AddDomainAsync("example.com", None);

        var account = await Store.AddAccountAsync("Alice@Example.com", "$h", None);

        Assert.Equal("alice@example.com", account.Address);
        Assert.Equal(account, await Store.FindAccountAsync("ALICE@example.COM", None));
        var mailbox = await Store.FindMailboxAsync("alice@example.com", None);
        Assert.NotNull(mailbox);
        Assert.Equal("INBOX", mailbox.Name);
        Assert.Equal("alice@example.com", mailbox.Address);
    }

    [Fact]
    public async Task ADuplicateAccountIsAConflict()
    {
        await Store.AddDomainAsync("example.com", None);
        await Store.AddAccountAsync("alice@example.com", "$h", None);

        await Assert.ThrowsAsync<DirectoryConflictException>(() => Store.AddAccountAsync("ALICE@example.com", "$h2", None));

        var only = Assert.Single(await Store.ListAccountsAsync(None));
        Assert.Equal("$h", only.PasswordHash);
    }

    [Fact]
    public async Task ADomainInUseCannotBeRemoved()
    {
        await Store.AddDomainAsync("example.com", None);
        await Store.AddAccountAsync("alice@example.com", "$h", None);

        await Assert.ThrowsAsync<DirectoryConflictException>(() => Store.RemoveDomainAsync("example.com", None));

        Assert.True(await Store.IsLocalDomainAsync("example.com", None));
        Assert.True(await Store.RemoveAccountAsync("alice@example.com", None));
        Assert.True(await Store.RemoveDomainAsync("example.com", None));
    }

    [Fact]
    public async Task ThePasswordHashCanBeReplaced()
    {
        await Store.AddDomainAsync("example.com", None);
        await Store.AddAccountAsync("alice@example.com", "$old", None);

        Assert.True(await Store.SetPasswordHashAsync("Alice@example.com", "$new", None));
        Assert.False(await Store.SetPasswordHashAsync("bob@example.com", "$new", None));

        Assert.Equal("$new", (await Store.FindAccountAsync("alice@example.com", None))!.PasswordHash);
    }

    [Fact]
    public async Task MailboxLookupIgnoresCase()
    {
        var mailbox = await AddUserAsync("alice@example.com");

        Assert.Equal(mailbox, await Store.FindMailboxAsync("ALICE@EXAMPLE.COM", None));
        Assert.Null(await Store.FindMailboxAsync("bob@example.com", None));
    }

    [Fact]
    public async Task TheSystemMailboxIsCreatedOnceEvenWhenRacing()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(
            i => Task.Run(() => Store.EnsureSystemMailboxAsync(i % 2 == 0 ? "postmaster" : "PostMaster", None))));

        var first = results[0];
        Assert.All(results, r => Assert.Equal(first, r));
        Assert.Equal("postmaster", first.Address);
        Assert.Equal(first, await Store.EnsureSystemMailboxAsync("postmaster", None));
        Assert.Equal(first, await Store.FindMailboxAsync("postmaster", None));
        Assert.Empty(await Store.ListAccountsAsync(None));
    }
}
