using Mailroom.Storage.Postgres;
using Mailroom.Testing;
using Mailroom.Testing.Crash;

namespace Mailroom.Scaling.Tests;

/// <summary>A node on PostgreSQL SIGKILLed under load, again and again: the twin of the SQLite crash test.</summary>
public sealed class CrashTests(PostgresFixture fixture)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>
    /// Issue 9, item 5, on PostgreSQL: ten SIGKILLs at random moments of load, each restart on
    /// what the kill left. Every acknowledged message is stored once and whole, and no message is
    /// stored in part (the large ones span several chunks). <c>bench/crash.sh</c> runs more rounds.
    /// </summary>
    [Fact]
    public async Task Ten_sigkills_at_random_moments_under_load_lose_no_acknowledged_message_and_store_none_in_part()
    {
        await using var set = await NodeSet.CreateAsync(fixture.Require());
        var environment = NodeSet.NodeEnvironment(set.ConnectionString, NodeSet.NodeName(0));
        var seed = KillUnderLoad.Seed(20261130);
        var rounds = KillUnderLoad.Rounds;
        var acknowledged = await KillUnderLoad.RunAsync(() => ServerProcess.StartAsync(set.NodeFolder(0), NodeSet.Domain, environment), [NodeSet.Alice], rounds, seed);

        await using var restarted = await ServerProcess.StartAsync(set.NodeFolder(0), NodeSet.Domain, environment);
        await using var store = await PostgresMailStore.OpenAsync(set.StoreOptions, Token);
        var stored = await store.ListMessagesAsync(NodeSet.Alice, Token);
        await KillUnderLoad.VerifyAsync("postgres", seed, rounds, acknowledged, stored.Select(s => (s.MessageId, s.Subject)).ToList(), async id => await store.OpenMessageAsync(id, Token));

        // The restarted node takes mail.
        await NodeSet.SendAsync(restarted, NodeSet.Alice, "after ten kills");
    }
}
