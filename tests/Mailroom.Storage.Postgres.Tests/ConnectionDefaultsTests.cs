using Npgsql;

namespace Mailroom.Storage.Postgres.Tests;

/// <summary>The defaults the store adds to a connection string, and what it leaves alone.</summary>
public sealed class ConnectionDefaultsTests
{
    [Fact]
    public async Task Unset_timeout_pool_size_and_application_name_get_the_stores_defaults()
    {
        await using var dataSource = PostgresMailStore.BuildDataSource(new PostgresStoreOptions { ConnectionString = "Host=db1;Database=mail;Username=mailroom", SpoolDirectory = "spool" });
        var built = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        Assert.Equal((5, PostgresMailStore.DefaultMaxPoolSize, "mailroom"), (built.Timeout, built.MaxPoolSize, built.ApplicationName));
    }

    [Fact]
    public async Task What_the_connection_string_sets_is_kept()
    {
        await using var dataSource = PostgresMailStore.BuildDataSource(new PostgresStoreOptions { ConnectionString = "Host=db1;Database=mail;Username=mailroom;timeout=30;maximum pool size=80;application name=mx1", SpoolDirectory = "spool" });
        var built = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        Assert.Equal((30, 80, "mx1"), (built.Timeout, built.MaxPoolSize, built.ApplicationName));
    }
}
