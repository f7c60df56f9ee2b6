using System.Diagnostics;
using Mailroom.Testing;
using Npgsql;

namespace Mailroom.Storage.Postgres.Tests;

/// <summary>The fixture is a real server, of a version we support, isolated and cleaned up.</summary>
public sealed class PostgresClusterTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Server_is_PostgreSQL_12_or_later()
    {
        var connectionString = await fixture.Require().CreateDatabaseAsync();

        Assert.True(await ScalarAsync<bool>(connectionString, "select current_setting('server_version_num')::int >= 120000"));
    }

    [Fact]
    public async Task Databases_are_distinct_and_isolated()
    {
        var cluster = fixture.Require();
        var first = await cluster.CreateDatabaseAsync();
        var second = await cluster.CreateDatabaseAsync();

        await ScalarAsync<int>(first, "create table only_here (id int); select 1");

        Assert.NotEqual(await ScalarAsync<string>(first, "select current_database()"), await ScalarAsync<string>(second, "select current_database()"));
        Assert.Equal(1L, await ScalarAsync<long>(first, "select count(*) from pg_tables where tablename = 'only_here'"));
        Assert.Equal(0L, await ScalarAsync<long>(second, "select count(*) from pg_tables where tablename = 'only_here'"));
    }

    [Fact]
    public async Task Server_lives_in_the_temporary_folder_as_an_unprivileged_user()
    {
        var cluster = fixture.Require();
        var connectionString = await cluster.CreateDatabaseAsync();

        var dataDirectory = await ScalarAsync<string>(connectionString, "select current_setting('data_directory')");
        Assert.StartsWith(Path.GetTempPath(), cluster.Folder, StringComparison.Ordinal);
        Assert.StartsWith(cluster.Folder + Path.DirectorySeparatorChar, dataDirectory, StringComparison.Ordinal);

        // The postmaster, not a backend: a backend ends with its connection.
        var postmaster = File.ReadLines(Path.Combine(dataDirectory, "postmaster.pid")).First();
        var processUser = await OutputAsync("ps", "-o", "user=", "-p", postmaster);
        var folderOwner = await OutputAsync("stat", "-c", "%U", cluster.Folder);
        if (Environment.IsPrivilegedProcess)
        {
            Assert.NotNull(cluster.RunAs);
            Assert.Equal(cluster.RunAs, processUser);
            Assert.Equal(cluster.RunAs, folderOwner);
        }
        else
        {
            Assert.Null(cluster.RunAs);
            Assert.Equal(Environment.UserName, processUser);
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(cluster.Folder));
        }
    }

    [Fact]
    public async Task Dispose_stops_the_server_and_removes_the_folder()
    {
        fixture.Require();
        var cluster = await PostgresCluster.StartAsync(TestContext.Current.CancellationToken);
        Assert.NotNull(cluster);
        Assert.Equal(1, await ScalarAsync<int>(cluster.ConnectionString, "select 1"));

        await cluster.DisposeAsync();

        Assert.False(Directory.Exists(cluster.Folder));
        var refused = await Assert.ThrowsAsync<NpgsqlException>(() => ScalarAsync<int>(cluster.ConnectionString, "select 1"));
        Assert.IsType<System.Net.Sockets.SocketException>(refused.InnerException);
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    private static async Task<string> OutputAsync(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, process.ExitCode);
        return output.Trim();
    }
}
