using Mailroom.Core.Storage;
using Mailroom.Storage.Contract;
using Npgsql;

namespace Mailroom.Storage.Postgres.Tests;

// The store contract suite, run on PostgreSQL: each class takes a fresh database of the run's cluster.

public sealed class PostgresDirectoryContract(PostgresFixture fixture) : DirectoryContract
{
    private readonly PostgresTestDatabase _database = new(fixture);

    protected override Task<IMailStore> OpenStoreAsync() => _database.OpenAsync();

    protected override Task<long> CountStoredBodiesAsync() => _database.CountStoredBodiesAsync();

    protected override ValueTask DropStoreAsync() => _database.DropAsync();
}

public sealed class PostgresMessageContract(PostgresFixture fixture) : MessageContract
{
    private readonly PostgresTestDatabase _database = new(fixture);

    protected override Task<IMailStore> OpenStoreAsync() => _database.OpenAsync();

    protected override Task<long> CountStoredBodiesAsync() => _database.CountStoredBodiesAsync();

    protected override ValueTask DropStoreAsync() => _database.DropAsync();
}

public sealed class PostgresMailboxContract(PostgresFixture fixture) : MailboxContract
{
    private readonly PostgresTestDatabase _database = new(fixture);

    protected override Task<IMailStore> OpenStoreAsync() => _database.OpenAsync();

    protected override Task<long> CountStoredBodiesAsync() => _database.CountStoredBodiesAsync();

    protected override ValueTask DropStoreAsync() => _database.DropAsync();
}

public sealed class PostgresListContract(PostgresFixture fixture) : ListContract
{
    private readonly PostgresTestDatabase _database = new(fixture);

    protected override Task<IMailStore> OpenStoreAsync() => _database.OpenAsync();

    protected override Task<long> CountStoredBodiesAsync() => _database.CountStoredBodiesAsync();

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

    /// <summary>
    /// Messages with body rows. An empty body has none, so this counts only non-empty bodies;
    /// chunk rows of a message that no longer exists cannot be (the foreign key cascades).
    /// </summary>
    public Task<long> CountStoredBodiesAsync() => ScalarAsync<long>("SELECT count(DISTINCT message_id) FROM message_chunks;");

    /// <summary>One statement on the test's database, outside the store.</summary>
    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(Options.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
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
