using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;

namespace Mailroom.Storage.Sqlite.Tests;

/// <summary>
/// A real SQLite store in a fresh temporary folder, deleted afterwards. Every body is a file here
/// (the inline limit is 0), as these tests are about files, folders and fsync order; the
/// contract suite and <see cref="InlineBodyTests"/> cover bodies kept in the database.
/// </summary>
public abstract class TempStore : IAsyncLifetime
{
    protected string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "mailroom-store-test-" + Guid.NewGuid().ToString("N"));

    protected SqliteMailStore Store { get; private set; } = null!;

    protected string MessagesDirectory => Path.Combine(DataDirectory, "messages");

    public async ValueTask InitializeAsync()
    {
        Store = await SqliteMailStore.OpenAsync(DataDirectory, CancellationToken.None);
        Store.InlineBodyLimit = InlineBodyLimit;
    }

    /// <summary>The store's inline limit in these tests: 0, every body a file.</summary>
    protected virtual int InlineBodyLimit => 0;

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    protected async Task ReopenAsync()
    {
        await Store.DisposeAsync();
        Store = await SqliteMailStore.OpenAsync(DataDirectory, CancellationToken.None);
        Store.InlineBodyLimit = InlineBodyLimit;
    }

    protected string[] BodyFiles() =>
        Directory.Exists(MessagesDirectory)
            ? Directory.GetFiles(MessagesDirectory, "*", SearchOption.AllDirectories)
            : [];

    protected async Task<MailboxRef> AddUserAsync(string address)
    {
        var domain = address[(address.LastIndexOf('@') + 1)..];
        await Store.AddDomainAsync(domain, CancellationToken.None);
        await Store.AddAccountAsync(address, "$test$hash", CancellationToken.None);
        return (await Store.FindMailboxAsync(address, CancellationToken.None))!;
    }

    protected async Task<string> DeliverAsync(byte[] body, params MailboxRef[] mailboxes)
    {
        var id = MessageIds.New();
        var envelope = new MessageEnvelope(
            id,
            "sender@example.net",
            [.. mailboxes.Select(m => new EnvelopeRecipient(m, m.Address))],
            DateTimeOffset.UtcNow);
        await using var writer = await Store.BeginMessageAsync(envelope, CancellationToken.None);
        await writer.WriteAsync(body, CancellationToken.None);
        await writer.CommitAsync(CancellationToken.None);
        return id;
    }
    /// <summary>Holds SQLite's write lock from a connection of its own, as another process would, until disposed.</summary>
    protected WriteLock HoldWriteLock() =>
        new(Path.Combine(DataDirectory, SqliteMailStore.DatabaseFileName));

    /// <summary>A connection of its own, as another process would have, in a write transaction until disposed.</summary>
    protected sealed class WriteLock : IDisposable
    {
        private readonly Microsoft.Data.Sqlite.SqliteConnection _connection;
        private readonly Microsoft.Data.Sqlite.SqliteTransaction _transaction;

        public WriteLock(string database)
        {
            _connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False");
            _connection.Open();
            _transaction = _connection.BeginTransaction(deferred: false);
        }

        public void Dispose()
        {
            _transaction.Dispose();
            _connection.Dispose();
        }
    }
}
