using Mailroom.Core.Accounts;
using Mailroom.Storage.Postgres;
using Mailroom.Testing;
using Mailroom.Testing.Disconnects;
using Npgsql;

namespace Mailroom.Scaling.Tests;

/// <summary>
/// Issue 9, item 2, on the PostgreSQL store: connections to two real <c>mailroom serve</c> nodes
/// cut at random points of random transactions (EHLO, STARTTLS and its handshake, AUTH and SASL,
/// MAIL, RCPT, DATA, BDAT, mailbox commands), by FIN and by RST. No partial message is stored, no
/// session is left idle in a transaction or holding a lock, no spool file is left, DELE is whole
/// or not at all, and both nodes serve on. The script, the cutting client and the store-neutral
/// checks are shared with the SQLite test (tests/Shared/DisconnectScript.cs); here are the nodes
/// on PostgreSQL and their checks.
/// </summary>
public sealed class DisconnectTests(PostgresFixture fixture)
{
    private const int DefaultSeed = 20260912;
    private const int Cases = 150;
    private const int Lanes = 4;

    [Fact]
    public async Task Cuts_at_random_points_leave_no_partial_message_no_open_transaction_or_lock_and_the_nodes_serve_on()
    {
        var cluster = fixture.Require();
        var seed = DisconnectRun.Seed(DefaultSeed);
        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"Seed {seed} (set MAILROOM_PROPERTY_SEED to replay another), {Cases} cases on {Lanes} connections at a time");
        await using var set = await NodeSet.CreateAsync(cluster);
        var hasher = new PasswordHasher(iterations: 1000);
        await using var store = await PostgresMailStore.OpenAsync(set.StoreOptions, CancellationToken.None);
        foreach (var user in DisconnectTarget.Recipients.Where(r => r != NodeSet.Alice))
        {
            await store.AddAccountAsync(user, hasher.Hash(NodeSet.AlicePassword), CancellationToken.None);
        }

        await set.StartNodeAsync();
        await set.StartNodeAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        const int SpoolLimit = PostgresMailStore.MemoryBodyLimit;
        var run = new DisconnectRun(
            new DisconnectTarget
            {
                Endpoint = index => set.Nodes[index % set.Nodes.Count].Endpoint,

                // The node made its own self-signed certificate: what is cut here is the handshake, not trust.
                TrustsCertificate = certificate => certificate is not null,
                Store = store,
                Hasher = hasher,
                Password = NodeSet.AlicePassword,

                // A third over the store's memory limit, so the body is spooled to a file of the node's while it arrives.
                BodySizes = [(0, 2048), (2048, 300 * 1024), (SpoolLimit, SpoolLimit + (300 * 1024))],
            },
            seed);
        await run.CutAsync(Cases, Lanes);
        var cutTime = clock.Elapsed;

        // Nothing tells when a node has noticed a reset: the database and the spool folders must
        // come clean within a deadline, and a leak never does.
        await CheckNoTransactionLockOrSpoolAsync(set, seed);
        await run.CheckMessagesAsync();
        await run.CheckMailboxesAsync();
        await CheckServesOnAsync(set, store, hasher);
        Assert.All(set.Nodes, n => Assert.False(n.HasExited));

        output?.WriteLine($"{Cases} cases in {cutTime.TotalSeconds:F1} s, checks done at {clock.Elapsed.TotalSeconds:F1} s");
        run.Report(output);
    }

    /// <summary>
    /// Check 2 on PostgreSQL: no session of the database idle in a transaction, no lock but this
    /// query's own, and no spool file on either node, within the deadline.
    /// </summary>
    private static async Task CheckNoTransactionLockOrSpoolAsync(NodeSet set, int seed)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var problems = new List<string>();
            await using (var connection = new NpgsqlConnection(set.ConnectionString))
            {
                await connection.OpenAsync(TestContext.Current.CancellationToken);
                await using var idle = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'", connection);
                var idleCount = (long)(await idle.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
                if (idleCount > 0)
                {
                    problems.Add($"{idleCount} session(s) idle in a transaction");
                }

                await using var locks = new NpgsqlCommand("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = current_database() AND l.pid <> pg_backend_pid()", connection);
                var lockCount = (long)(await locks.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
                if (lockCount > 0)
                {
                    problems.Add($"{lockCount} lock(s) held by other sessions");
                }
            }

            var spools = Directory.GetFiles(set.Folder, "*.spool", SearchOption.AllDirectories);
            if (spools.Length > 0)
            {
                problems.Add($"spool files left: {string.Join(", ", spools.Select(Path.GetFileName))}");
            }

            if (problems.Count == 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"seed {seed}: 20 s after the last cut: {string.Join("; ", problems)}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Check 3: on each node a normal client delivers, and a mailbox session reads what it delivered.</summary>
    private static async Task CheckServesOnAsync(NodeSet set, PostgresMailStore store, PasswordHasher hasher)
    {
        await store.AddAccountAsync("after@example.test", hasher.Hash(NodeSet.AlicePassword), CancellationToken.None);
        foreach (var node in set.Nodes)
        {
            var id = await NodeSet.SendAsync(node, "after@example.test", $"after the cuts on {node.Endpoint}");
            await using var reader = await LineClient.ConnectAsync(node.Endpoint);
            Assert.StartsWith("250", await reader.CommandAsync("EHLO reader.test"), StringComparison.Ordinal);
            Assert.StartsWith("235", await reader.CommandAsync($"LOGN after@example.test {NodeSet.AlicePassword}"), StringComparison.Ordinal);
            Assert.StartsWith("250", await reader.CommandAsync("READ INBOX"), StringComparison.Ordinal);
            Assert.Contains(id, await reader.CommandAsync("LIST"), StringComparison.Ordinal);
        }
    }
}
