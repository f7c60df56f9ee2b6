using Mailroom.Core.Storage;
using Npgsql;

namespace Mailroom.Storage.Postgres.Tests;

/// <summary>The schema is migrated only on request, and a node refuses any schema but its own.</summary>
public sealed class PostgresSchemaTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly string _spool = Path.Combine(Path.GetTempPath(), "mailroom-pg-spool-" + Guid.NewGuid().ToString("N"));
    private PostgresStoreOptions _options = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _options = new PostgresStoreOptions { ConnectionString = await fixture.Require().CreateDatabaseAsync(), SpoolDirectory = _spool };

    public async ValueTask DisposeAsync()
    {
        await fixture.Require().DropDatabaseAsync(_options.ConnectionString);
        if (Directory.Exists(_spool))
        {
            Directory.Delete(_spool, recursive: true);
        }
    }

    [Fact]
    public async Task An_empty_database_is_refused_with_a_pointer_to_db_migrate()
    {
        var refused = await Assert.ThrowsAsync<SchemaVersionException>(() => PostgresMailStore.OpenAsync(_options, Token));

        Assert.Equal(0, refused.DatabaseVersion);
        Assert.Equal(PostgresMailStore.SchemaVersion, refused.KnownVersion);
        Assert.Contains("mailroom db migrate", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM pg_tables WHERE schemaname = 'public';"));
    }

    [Fact]
    public async Task A_database_of_a_newer_Mailroom_is_refused_with_a_pointer_to_upgrade()
    {
        await PostgresMailStore.MigrateAsync(_options, Token);
        await ScalarAsync<int>("INSERT INTO schema_version (version, applied_utc) VALUES (99, now()); SELECT 1;");

        var refused = await Assert.ThrowsAsync<SchemaVersionException>(() => PostgresMailStore.OpenAsync(_options, Token));

        Assert.Equal(99, refused.DatabaseVersion);
        Assert.Equal(PostgresMailStore.SchemaVersion, refused.KnownVersion);
        Assert.Contains("upgrade", refused.Message, StringComparison.OrdinalIgnoreCase);
        await Assert.ThrowsAsync<SchemaVersionException>(() => PostgresMailStore.MigrateAsync(_options, Token));
    }

    [Fact]
    public async Task Migrate_creates_the_schema_once_and_a_second_run_changes_nothing()
    {
        var first = await PostgresMailStore.MigrateAsync(_options, Token);
        var second = await PostgresMailStore.MigrateAsync(_options, Token);

        Assert.Equal(new SchemaMigration(0, PostgresMailStore.SchemaVersion), first);
        Assert.True(first.Changed);
        Assert.Equal(new SchemaMigration(PostgresMailStore.SchemaVersion, PostgresMailStore.SchemaVersion), second);
        Assert.False(second.Changed);
        Assert.Equal(PostgresMailStore.SchemaVersion, await PostgresMailStore.ReadSchemaVersionAsync(_options, Token));
        await using var store = await PostgresMailStore.OpenAsync(_options, Token);
    }

    [Fact]
    public async Task Two_migrations_at_once_take_turns_and_apply_the_schema_once()
    {
        var runs = await Task.WhenAll(
            Task.Run(() => PostgresMailStore.MigrateAsync(_options, Token), Token),
            Task.Run(() => PostgresMailStore.MigrateAsync(_options, Token), Token));

        // One created the schema, the other found it done.
        Assert.Single(runs, run => run.Changed);
        Assert.All(runs, run => Assert.Equal(PostgresMailStore.SchemaVersion, run.To));
        Assert.Equal((long)PostgresMailStore.SchemaVersion, await ScalarAsync<long>("SELECT count(*) FROM schema_version;"));
        await using var store = await PostgresMailStore.OpenAsync(_options, Token);
    }

    [Fact]
    public async Task Synchronous_commit_off_is_refused_at_open()
    {
        await PostgresMailStore.MigrateAsync(_options, Token);
        var database = new NpgsqlConnectionStringBuilder(_options.ConnectionString).Database!;
        await ScalarAsync<int>($"ALTER DATABASE \"{database}\" SET synchronous_commit = off; SELECT 1;");

        var refused = await Assert.ThrowsAsync<StorageException>(() => PostgresMailStore.OpenAsync(_options, Token));

        Assert.IsNotType<SchemaVersionException>(refused);
        Assert.Contains("synchronous_commit=off", refused.Message, StringComparison.Ordinal);
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(_options.ConnectionString);
        await connection.OpenAsync(Token);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(Token))!;
    }
}
