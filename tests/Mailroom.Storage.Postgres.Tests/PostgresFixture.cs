using Mailroom.Testing;

[assembly: AssemblyFixture(typeof(Mailroom.Storage.Postgres.Tests.PostgresFixture))]

namespace Mailroom.Storage.Postgres.Tests;

/// <summary>
/// One throwaway cluster for the whole test run (initdb takes seconds); each test takes a fresh
/// database from it. Where PostgreSQL is missing is decided here and nowhere else: a skip on a
/// developer's machine, a failure in CI, where .ci/run installs it.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresCluster? _cluster;

    public async ValueTask InitializeAsync() =>
        _cluster = await PostgresCluster.StartAsync(TestContext.Current.CancellationToken);

    public PostgresCluster Require()
    {
        if (_cluster is not null)
        {
            return _cluster;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail("PostgreSQL is not installed; .ci/run installs it (apt-get install postgresql).");
        }

        Assert.Skip("PostgreSQL is not installed: the PostgreSQL tests were skipped");
        return null!;
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}
