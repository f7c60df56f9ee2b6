using Mailroom.Core.Storage;
using Mailroom.Storage.Contract;

namespace Mailroom.Storage.Postgres.Tests;

// The store contract suite, run on PostgreSQL: each class takes a fresh database of the run's cluster.

public sealed class PostgresDirectoryContract(PostgresFixture fixture) : DirectoryContract
{
    private readonly PostgresTestDatabase _database = new(fixture);

    protected override Task<IMailStore> OpenStoreAsync() => _database.OpenAsync();

    protected override ValueTask DropStoreAsync() => _database.DropAsync();
}

public sealed class PostgresMessageContract(PostgresFixture fixture) : MessageContract
{
    private readonly PostgresTestDatabase _database = new(fixture);

    protected override Task<IMailStore> OpenStoreAsync() => _database.OpenAsync();

    protected override ValueTask DropStoreAsync() => _database.DropAsync();
}

public sealed class PostgresMailboxContract(PostgresFixture fixture) : MailboxContract
{
    private readonly PostgresTestDatabase _database = new(fixture);

    protected override Task<IMailStore> OpenStoreAsync() => _database.OpenAsync();

    protected override ValueTask DropStoreAsync() => _database.DropAsync();
}

public sealed class PostgresListContract(PostgresFixture fixture) : ListContract
{
    private readonly PostgresTestDatabase _database = new(fixture);

    protected override Task<IMailStore> OpenStoreAsync() => _database.OpenAsync();

    protected override ValueTask DropStoreAsync() => _database.DropAsync();
}

/// <summary>
/// A fresh database of the run's cluster for one test, with the schema migrated in (as
/// <c>mailroom db migrate</c> does), and a spool folder; every open reopens the same data.
/// </summary>
internal sealed class PostgresTestDatabase(PostgresFixture fixture)
{
    private readonly string _spool = Path.Combine(Path.GetTempPath(), "mailroom-pg-spool-" + Guid.NewGuid().ToString("N"));
    private PostgresStoreOptions? _options;

    public PostgresStoreOptions Options => _options ?? throw new InvalidOperationException("Open the store first.");

    public async Task<IMailStore> OpenAsync() => await OpenStoreAsync();

    public async Task<PostgresMailStore> OpenStoreAsync()
    {
        if (_options is null)
        {
            var cluster = fixture.Require();
            var connectionString = await cluster.CreateDatabaseAsync();
            _options = new PostgresStoreOptions { ConnectionString = connectionString, SpoolDirectory = _spool };
            await PostgresMailStore.MigrateAsync(_options, CancellationToken.None);
        }

        return await PostgresMailStore.OpenAsync(_options, CancellationToken.None);
    }

    public async ValueTask DropAsync()
    {
        if (_options is not null)
        {
            await fixture.Require().DropDatabaseAsync(_options.ConnectionString);
        }

        if (Directory.Exists(_spool))
        {
            Directory.Delete(_spool, recursive: true);
        }
    }
}
