using Mailroom.Core.Storage;
using Mailroom.Testing;
using Npgsql;
using static Mailroom.Storage.Postgres.Tests.PostgresStoreTestKit;

namespace Mailroom.Storage.Postgres.Tests;

/// <summary><see cref="PostgresStoreOptions.PasswordFile"/>, and the connection settings the store adds.</summary>
public sealed class PostgresPasswordFileTests(PostgresFixture fixture) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mailroom-pg-password-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void The_password_file_goes_into_the_connection_without_its_trailing_newline()
    {
        var file = WritePasswordFile("s3cret pass\r\n");

        var builder = ConnectionOf(new PostgresStoreOptions { ConnectionString = "Host=db1;Username=mailroom", PasswordFile = file, SpoolDirectory = _folder });

        Assert.Equal("s3cret pass", builder.Password);
    }

    [Fact]
    public async Task A_missing_password_file_is_refused_naming_the_file()
    {
        var missing = Path.Combine(_folder, "no-such-password");
        var options = new PostgresStoreOptions { ConnectionString = "Host=127.0.0.1;Username=mailroom", PasswordFile = missing, SpoolDirectory = _folder };

        var refused = await Assert.ThrowsAsync<StorageException>(() => PostgresMailStore.OpenAsync(options, Token));

        Assert.Contains(missing, refused.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// On a cluster of the test's own, whose pg_hba.conf asks this role for a SCRAM password (the
    /// test clusters trust everyone else), so the password the file holds is really checked.
    /// </summary>
    [Fact]
    public async Task The_server_accepts_the_password_from_the_file_and_refuses_a_wrong_one()
    {
        fixture.Require();
        await using var cluster = await PostgresCluster.StartAsync(Token);
        Assert.NotNull(cluster);
        var database = await cluster.CreateDatabaseAsync();
        await ExecuteAsync(cluster.ConnectionString, $"""
            CREATE ROLE node LOGIN PASSWORD 'right horse battery';
            ALTER DATABASE "{new NpgsqlConnectionStringBuilder(database).Database}" OWNER TO node;
            """);
        var hbaFile = await ScalarAsync<string>(cluster.ConnectionString, "SHOW hba_file;");
        await File.WriteAllTextAsync(hbaFile, "host all node 127.0.0.1/32 scram-sha-256\n" + await File.ReadAllTextAsync(hbaFile, Token), Token);
        await ScalarAsync<bool>(cluster.ConnectionString, "SELECT pg_reload_conf();");
        var asNode = new NpgsqlConnectionStringBuilder(database) { Username = "node" }.ConnectionString;
        await WaitUntilRefusedWithoutPasswordAsync(asNode);

        var right = new PostgresStoreOptions { ConnectionString = asNode, PasswordFile = WritePasswordFile("right horse battery\n"), SpoolDirectory = Path.Combine(_folder, "spool") };
        var wrong = right with { PasswordFile = WritePasswordFile("wrong horse battery\n") };

        Assert.Equal(PostgresMailStore.SchemaVersion, (await PostgresMailStore.MigrateAsync(right, Token)).To);
        await using (var store = await PostgresMailStore.OpenAsync(right, Token))
        {
            Assert.True(await store.AddDomainAsync("example.com", Token));
        }

        var refused = await Assert.ThrowsAsync<StorageException>(() => PostgresMailStore.OpenAsync(wrong, Token));
        Assert.Contains(PostgresErrorCodes.InvalidPassword, refused.Message, StringComparison.Ordinal);
    }

    private static NpgsqlConnectionStringBuilder ConnectionOf(PostgresStoreOptions options) =>
        new(PostgresMailStore.BuildConnectionString(options));

    private string WritePasswordFile(string content)
    {
        var file = Path.Combine(_folder, Guid.NewGuid().ToString("N"));
        File.WriteAllText(file, content);
        return file;
    }

    /// <summary>The reload is a signal the server acts on a moment later: the new rule counts once a password-less login fails.</summary>
    private static async Task WaitUntilRefusedWithoutPasswordAsync(string connectionString)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            try
            {
                await ScalarAsync<int>(connectionString, "SELECT 1;");
            }
            catch (NpgsqlException)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), Token);
        }

        Assert.Fail("pg_hba.conf still lets the role in without a password.");
    }

    private static async Task ExecuteAsync(string connectionString, string sql) => await ScalarAsync<object>(connectionString, sql + " SELECT 1;");

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Token);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(Token))!;
    }
}
