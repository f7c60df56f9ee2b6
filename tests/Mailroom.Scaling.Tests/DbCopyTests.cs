using System.Text.Json;
using Mailroom.Cli.Admin;
using Mailroom.Core.Accounts;
using Mailroom.Storage.Postgres;
using Mailroom.Storage.Sqlite;
using Mailroom.Testing;

namespace Mailroom.Scaling.Tests;

/// <summary><c>mailroom db copy --from-sqlite</c>: moving a SQLite server's users and mail to another store.</summary>
public sealed class DbCopyTests(PostgresFixture fixture)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Db_copy_moves_a_sqlite_store_into_postgres_and_a_second_run_copies_nothing()
    {
        var cluster = fixture.Require();
        await using var source = await CopySource.CreateAsync(Token);
        var folder = Directory.CreateTempSubdirectory("mailroom-copy-target-").FullName;
        var connectionString = await cluster.CreateDatabaseAsync();
        try
        {
            var options = new PostgresStoreOptions { ConnectionString = connectionString, SpoolDirectory = Path.Combine(folder, "test-spool") };
            await PostgresMailStore.MigrateAsync(options, Token);
            var config = Path.Combine(folder, "mailroom.json");
            await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new { Store = new { Provider = "postgres", ConnectionString = connectionString } }), Token);
            var admin = Path.Combine(folder, "admin");

            var first = await MailroomCli.RunAsync("db", "copy", "--from-sqlite", source.Folder, "--config", config, "--data", admin);
            Assert.True(first.ExitCode == 0, first.Error);
            Assert.Contains(CopySource.FirstCopy + "; skipped 0 domain(s)", first.Output, StringComparison.Ordinal);
            Assert.Contains("messages in the trash are not copied", first.Output, StringComparison.Ordinal);
            await using (var target = await PostgresMailStore.OpenAsync(options, Token))
            {
                await source.AssertCopiedAsync(target, Token);
            }

            var second = await MailroomCli.RunAsync("db", "copy", "--from-sqlite", source.Folder, "--config", config, "--data", admin);
            Assert.True(second.ExitCode == 0, second.Error);
            Assert.Contains(
                "copied 0 domain(s), 0 account(s), 0 shared mailbox(es), 0 grant(s), 0 list(s), 0 message(s), 0 flag(s); "
                + "skipped 2 domain(s), 3 account(s), 2 shared mailbox(es), 3 grant(s), 1 list(s), 4 message(s), 6 flag(s)",
                second.Output,
                StringComparison.Ordinal);
            await using (var target = await PostgresMailStore.OpenAsync(options, Token))
            {
                await source.AssertCopiedAsync(target, Token);
            }
        }
        finally
        {
            await cluster.DropDatabaseAsync(connectionString);
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Db_copy_refuses_to_copy_a_sqlite_store_into_itself()
    {
        await using var source = await CopySource.CreateAsync(Token);
        var before = await CountMessagesAsync(source);

        var result = await MailroomCli.RunAsync("db", "copy", "--from-sqlite", source.Folder + Path.DirectorySeparatorChar, "--data", source.Folder);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("is the source itself", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("copied", result.Output, StringComparison.Ordinal);
        Assert.Equal(before, await CountMessagesAsync(source));
    }

    [Fact]
    public async Task Db_copy_refuses_a_source_folder_without_a_store()
    {
        var empty = Directory.CreateTempSubdirectory("mailroom-copy-empty-").FullName;
        var target = Directory.CreateTempSubdirectory("mailroom-copy-target-").FullName;
        try
        {
            var result = await MailroomCli.RunAsync("db", "copy", "--from-sqlite", empty, "--data", target);

            Assert.Equal(ExitCodes.Usage, result.ExitCode);
            Assert.Contains("there is no SQLite store", result.Error, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(empty, SqliteMailStore.DatabaseFileName)));
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
            Directory.Delete(target, recursive: true);
        }
    }

    /// <summary>The copying itself, SQLite to SQLite: covered where PostgreSQL is not installed.</summary>
    [Fact]
    public async Task StoreCopy_copies_sqlite_to_sqlite_and_resumes_without_copying_twice()
    {
        await using var source = await CopySource.CreateAsync(Token);
        var folder = Directory.CreateTempSubdirectory("mailroom-copy-sqlite-").FullName;
        try
        {
            await using (var from = await source.OpenAsync(Token))
            await using (var to = await SqliteMailStore.OpenAsync(folder, Token))
            {
                var report = await StoreCopy.CopyAsync(from, to, Token);
                Assert.StartsWith(CopySource.FirstCopy + "; skipped 0 domain(s)", report.Summary(), StringComparison.Ordinal);
                Assert.False(report.TargetKeptItsSaltKey);
                await source.AssertCopiedAsync(to, Token);

                var again = await StoreCopy.CopyAsync(from, to, Token);
                Assert.Equal(0, again.Messages.Copied);
                Assert.Equal(4, again.Messages.Skipped);
                Assert.Equal(0, again.Flags.Copied + again.Accounts.Copied + again.Domains.Copied + again.Mailboxes.Copied + again.Grants.Copied + again.Lists.Copied);
                await source.AssertCopiedAsync(to, Token);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>A target with a key of its own keeps it, and the report says so; a fresh target takes the source's.</summary>
    [Fact]
    public async Task StoreCopy_keeps_a_targets_own_salt_key_and_says_so()
    {
        await using var source = await CopySource.CreateAsync(Token);
        var folder = Directory.CreateTempSubdirectory("mailroom-copy-key-").FullName;
        try
        {
            await using var from = await source.OpenAsync(Token);
            await using var to = await SqliteMailStore.OpenAsync(folder, Token);
            byte[] own = [1, 2, 3];
            await to.GetOrAddSecretAsync(Authenticator.FakeSaltSecret, own, Token);

            var report = await StoreCopy.CopyAsync(from, to, Token);

            Assert.True(report.TargetKeptItsSaltKey);
            Assert.Equal(own, await to.GetOrAddSecretAsync(Authenticator.FakeSaltSecret, [9], Token));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<int> CountMessagesAsync(CopySource source)
    {
        await using var store = await source.OpenAsync(Token);
        return (await store.ListMessagesAsync(null, Token)).Count;
    }
}
