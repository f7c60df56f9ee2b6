using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;

namespace Mailroom.Storage.Contract;

/// <summary>
/// The base of the store contract suite: one set of tests that every <see cref="IMailStore"/>
/// must pass, so the SQLite and PostgreSQL stores cannot drift apart. The tests live in abstract
/// classes here (<see cref="DirectoryContract"/>, <see cref="MessageContract"/>,
/// <see cref="MailboxContract"/>, <see cref="ListContract"/>); a store's test project runs them by
/// deriving one sealed class per contract that says how to open that store.
/// <para>
/// SQLite: <c>SqliteDirectoryContract</c> and its siblings in Mailroom.Storage.Sqlite.Tests open a
/// store in a fresh temporary folder and delete it afterwards.
/// </para>
/// <para>
/// PostgreSQL, once the store exists: add <c>PostgresDirectoryContract : DirectoryContract</c> and
/// so on in Mailroom.Storage.Postgres.Tests, taking the assembly's <c>PostgresFixture</c> in the
/// constructor. <see cref="OpenStoreAsync"/> calls <c>PostgresFixture.Require()</c> (which skips
/// locally and fails in CI where PostgreSQL is missing), creates a fresh database on the first call
/// and opens the same database on later calls; <see cref="DropStoreAsync"/> drops it.
/// </para>
/// Tests that depend on how one store keeps its data (files, PRAGMAs, schema versions, injected
/// faults) stay in that store's own test project.
/// </summary>
public abstract class StoreContract : IAsyncLifetime
{
    protected static readonly CancellationToken None = CancellationToken.None;

    protected IMailStore Store { get; private set; } = null!;

    /// <summary>
    /// Opens the store under test. The first call starts from an empty store; every later call
    /// opens the same data again, so a test can check what survives a restart.
    /// </summary>
    protected abstract Task<IMailStore> OpenStoreAsync();

    /// <summary>
    /// How many message bodies the store holds, counted in its own storage (files, rows) rather
    /// than through <see cref="IMailStore"/>: a message gone from every listing whose body stays
    /// behind is a leak the interface cannot show.
    /// </summary>
    protected abstract Task<long> CountStoredBodiesAsync();

    /// <summary>Deletes what the store kept, after the test has closed it for the last time.</summary>
    protected virtual ValueTask DropStoreAsync() => ValueTask.CompletedTask;

    public async ValueTask InitializeAsync() => Store = await OpenStoreAsync();

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        await DropStoreAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Closes the store and opens the same data again, as after a restart.</summary>
    protected async Task ReopenAsync()
    {
        await Store.DisposeAsync();
        Store = await OpenStoreAsync();
    }

    protected async Task<MailboxRef> AddUserAsync(string address)
    {
        var domain = address[(address.LastIndexOf('@') + 1)..];
        await Store.AddDomainAsync(domain, None);
        await Store.AddAccountAsync(address, "$test$hash", None);
        return (await Store.FindMailboxAsync(address, None))!;
    }

    protected async Task<long> AccountIdAsync(string address) => (await Store.FindAccountAsync(address, None))!.Id;

    protected async Task<string> DeliverAsync(byte[] body, params MailboxRef[] mailboxes)
    {
        var id = MessageIds.New();
        var envelope = new MessageEnvelope(
            id,
            "sender@example.net",
            [.. mailboxes.Select(m => new EnvelopeRecipient(m, m.Address))],
            DateTimeOffset.UtcNow);
        await using var writer = await Store.BeginMessageAsync(envelope, None);
        await writer.WriteAsync(body, None);
        await writer.CommitAsync(None);
        return id;
    }
}
