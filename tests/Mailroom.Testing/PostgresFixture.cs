using Xunit;

namespace Mailroom.Testing;

/// <summary>
/// One throwaway cluster for a whole test assembly (initdb takes seconds); each test takes a
/// fresh database from it. A test project uses it with
/// <c>[assembly: AssemblyFixture(typeof(Mailroom.Testing.PostgresFixture))]</c>. Where PostgreSQL
/// is missing is decided here and nowhere else: a skip on a developer's machine, a failure in
/// CI (<c>CI=true</c>), where .ci/run installs it.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string SkipReason = "PostgreSQL is not installed: the PostgreSQL tests were skipped";

    private PostgresCluster? _cluster;

    public async ValueTask InitializeAsync() =>
        _cluster = await PostgresCluster.StartAsync(TestContext.Current.CancellationToken);

    public PostgresCluster Require()
    {
        if (_cluster is not null)
        {
            return _cluster;
        }

        RequireInstalled();
        return null!;
    }

    /// <summary>For a test that starts a cluster of its own: skips or fails as <see cref="Require"/> does when PostgreSQL is missing.</summary>
    public static void RequireInstalled()
    {
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail("PostgreSQL is not installed; .ci/run installs it (apt-get install postgresql).");
        }

        Assert.Skip(SkipReason);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}
