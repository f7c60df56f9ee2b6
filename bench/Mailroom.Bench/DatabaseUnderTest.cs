using System.Globalization;
using Mailroom.Core.Storage;
using Mailroom.Storage.Postgres;
using Mailroom.Testing;
using Npgsql;

namespace Mailroom.Bench;

/// <summary>
/// A throwaway PostgreSQL cluster with one database at the current schema, for the nodes the
/// bench starts; its CPU time is read apart from theirs. Stops the cluster and removes its folder after.
/// </summary>
public sealed class DatabaseUnderTest : IAsyncDisposable
{
    private readonly PostgresCluster _cluster;

    private DatabaseUnderTest(PostgresCluster cluster, string connectionString)
    {
        _cluster = cluster;
        ConnectionString = connectionString;
    }

    /// <summary>The database, with connection pooling on as a production node would run (the test cluster's own string turns it off).</summary>
    public string ConnectionString { get; }

    public string Describe()
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        return $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}";
    }

    public static async Task<DatabaseUnderTest> StartAsync(CancellationToken cancellationToken)
    {
        var cluster = await PostgresCluster.StartAsync(cancellationToken)
            ?? throw new InvalidOperationException("--store postgres needs PostgreSQL's server binaries (initdb, pg_ctl, postgres); none were found.");
        try
        {
            var database = await cluster.CreateDatabaseAsync("mailroom_bench");
            var connectionString = new NpgsqlConnectionStringBuilder(database) { Pooling = true }.ConnectionString;
            return new DatabaseUnderTest(cluster, connectionString);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary><c>mailroom db migrate</c>'s work, then the store open for seeding; <paramref name="spool"/> is a folder of the bench's.</summary>
    public async Task<IMailStore> MigrateAndOpenAsync(string spool, CancellationToken cancellationToken)
    {
        var options = new PostgresStoreOptions { ConnectionString = ConnectionString, SpoolDirectory = spool };
        await PostgresMailStore.MigrateAsync(options, cancellationToken);
        return await PostgresMailStore.OpenAsync(options, cancellationToken);
    }

    /// <summary>The server's CPU time so far: the postmaster, the backends it has reaped and those still running.</summary>
    public TimeSpan? CpuTime()
    {
        var pidFile = Path.Combine(_cluster.DataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile))
        {
            return null;
        }

        var pid = int.Parse(File.ReadLines(pidFile).First(), CultureInfo.InvariantCulture);
        return ProcStat.TreeCpuTime(pid);
    }

    /// <summary>The server log's lines at WARNING and above, the last <paramref name="count"/> of them.</summary>
    public IEnumerable<string> LogProblems(int count)
    {
        var lines = File.Exists(_cluster.LogFile) ? File.ReadAllLines(_cluster.LogFile) : [];
        return lines.Where(l => l.Contains("WARNING:", StringComparison.Ordinal) || l.Contains("ERROR:", StringComparison.Ordinal) || l.Contains("FATAL:", StringComparison.Ordinal) || l.Contains("PANIC:", StringComparison.Ordinal)).TakeLast(count);
    }

    public ValueTask DisposeAsync() => _cluster.DisposeAsync();
}
