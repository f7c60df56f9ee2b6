using Mailroom.Core.Storage;
using Mailroom.Testing;
using static Mailroom.Storage.Postgres.Tests.PostgresStoreTestKit;

namespace Mailroom.Storage.Postgres.Tests;

/// <summary>
/// The database goes away under an open store and comes back. On a cluster of the test's own:
/// stopping the run's shared one would fail the tests running beside this one.
/// </summary>
public sealed class PostgresOutageTests(PostgresFixture fixture)
{
    [Fact]
    public async Task During_an_outage_operations_fail_as_storage_faults_and_the_same_store_recovers_after_it()
    {
        fixture.Require();
        await using var cluster = await PostgresCluster.StartAsync(Token);
        Assert.NotNull(cluster);
        var spool = Path.Combine(cluster.Folder, "spool");
        // The cluster's connection strings turn pooling off; a node runs with Npgsql's pool.
        var unpooled = await cluster.CreateDatabaseAsync();
        var pooled = new Npgsql.NpgsqlConnectionStringBuilder(unpooled) { Pooling = true };
        var options = new PostgresStoreOptions { ConnectionString = pooled.ConnectionString, SpoolDirectory = spool };
        await PostgresMailStore.MigrateAsync(options, Token);
        await using var store = await PostgresMailStore.OpenAsync(options, Token);
        var alice = await AddUserAsync(store, "alice@example.com");
        await DeliverAsync(store, Body(100), alice);

        // Idle connections in the pool that the stop will kill, as a node has after a busy spell.
        // Eight lookups held at once behind a lock make the pool open eight, however the
        // threads are scheduled.
        await using (var holder = new Npgsql.NpgsqlConnection(unpooled))
        {
            await holder.OpenAsync(Token);
            await using var hold = await holder.BeginTransactionAsync(Token);
            await using (var lockTable = new Npgsql.NpgsqlCommand("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;", holder, hold))
            {
                await lockTable.ExecuteNonQueryAsync(Token);
            }

            var lookups = Enumerable.Range(0, 8).Select(_ => store.FindAccountAsync("alice@example.com", Token)).ToList();
            var waited = System.Diagnostics.Stopwatch.StartNew();
            long open;
            while ((open = await PooledConnectionsAsync(cluster, options)) < 8)
            {
                // Well inside Npgsql's 30 s command timeout, which would fail the lookups first.
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(20), $"only {open} of the 8 lookups reached the database");
                await Task.Delay(20, Token);
            }

            await hold.CommitAsync(Token);
            await Task.WhenAll(lookups);
        }

        Assert.InRange(await PooledConnectionsAsync(cluster, options), 8, int.MaxValue);

        // Bounded: a store that hangs on a dead database fails here rather than holding the run.
        using var outage = CancellationTokenSource.CreateLinkedTokenSource(Token);
        outage.CancelAfter(TimeSpan.FromSeconds(60));
        var inFlight = await store.BeginMessageAsync(Envelope(alice), outage.Token);
        await inFlight.WriteAsync(Body(2000), outage.Token);

        await cluster.StopServerAsync();

        await Assert.ThrowsAsync<StorageException>(() => store.FindAccountAsync("alice@example.com", outage.Token));
        await Assert.ThrowsAsync<StorageException>(() => inFlight.CommitAsync(outage.Token));
        await inFlight.DisposeAsync();

        // A delivery begun during the outage needs no database until its commit, which fails.
        await using (var during = await store.BeginMessageAsync(Envelope(alice), outage.Token))
        {
            await during.WriteAsync(Body(2000), outage.Token);
            await Assert.ThrowsAsync<StorageException>(() => during.CommitAsync(outage.Token));
        }

        await cluster.StartServerAsync();

        // The pool is emptied at the first fault, so no connection from before the stop is left
        // to fail here more than once. (Npgsql drops the connections the server shut down by
        // itself too: with the store's own emptying removed, this still passes.)
        var (account, attempts) = await RetryAsync(() => store.FindAccountAsync("alice@example.com", Token));
        Assert.NotNull(account);
        Assert.True(attempts <= 2, $"the store needed {attempts} attempts after the database came back");
        var after = await DeliverAsync(store, Body(3000), alice);
        Assert.Equal(2, (await store.ListMessagesAsync("alice@example.com", Token)).Count);
        Assert.Equal(Body(3000), await ReadAllAsync(store, after));
    }

    private static async Task<long> PooledConnectionsAsync(PostgresCluster cluster, PostgresStoreOptions options)
    {
        var database = new Npgsql.NpgsqlConnectionStringBuilder(options.ConnectionString).Database;
        await using var connection = new Npgsql.NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync(Token);
        await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = @db AND application_name = 'mailroom';", connection);
        command.Parameters.AddWithValue("db", database!);
        return (long)(await command.ExecuteScalarAsync(Token))!;
    }

    /// <summary>
    /// A connection the pool handed out before the stop may fail once after the start; the store
    /// must be working again within a few attempts, without being reopened.
    /// </summary>
    private static async Task<(T Result, int Attempts)> RetryAsync<T>(Func<Task<T>> operation)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return (await operation(), attempt);
            }
            catch (StorageException) when (attempt < 5)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), Token);
            }
        }
    }
}
