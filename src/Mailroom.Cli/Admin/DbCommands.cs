using System.CommandLine;
using Mailroom.Cli.Serve;
using Mailroom.Storage.Sqlite;

namespace Mailroom.Cli.Admin;

/// <summary>
/// <c>mailroom db migrate|status|copy</c>: the store's schema, and moving a SQLite store's
/// contents into the configured one. SQLite migrates itself when it is opened; PostgreSQL only
/// here, once for all nodes, since a node that changed the schema at start would change it
/// under the others. A node refuses to start on any other version.
/// </summary>
internal static class DbCommands
{
    public static Command Create()
    {
        var db = new Command("db", "The store's schema: migrate it, show its version, or copy a SQLite store into it");
        db.Subcommands.Add(Migrate());
        db.Subcommands.Add(Status());
        db.Subcommands.Add(Copy());
        return db;
    }

    private static Command Migrate()
    {
        var data = CommonOptions.Data();
        var command = new Command("migrate", "Create or upgrade the store's schema to this Mailroom's version (run once, before starting the nodes)");
        command.Options.Add(data);
        AdminAction.Set(command, data, opensStore: false, async context =>
        {
            var migration = await context.StoreSettings.MigrateAsync(context.CancellationToken).ConfigureAwait(false);
            context.Output.WriteLine(migration.Changed
                ? $"migrated {context.StoreSettings.Describe()} from schema version {migration.From} to {migration.To}"
                : $"{context.StoreSettings.Describe()} is at schema version {migration.To} already");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Status()
    {
        var data = CommonOptions.Data();
        var command = new Command("status", "Show the store, its schema version and the version this Mailroom runs on; exit 0 when they match");
        command.Options.Add(data);
        AdminAction.Set(command, data, opensStore: false, async context =>
        {
            var (database, known) = await context.StoreSettings.ReadSchemaVersionAsync(context.CancellationToken).ConfigureAwait(false);
            var state = database == known ? "up to date"
                : database > known ? "newer than this Mailroom: upgrade Mailroom"
                : context.StoreSettings.Provider == StoreProvider.Sqlite ? "older: it is migrated when the server or an admin command opens it"
                : "older: run `mailroom db migrate`";
            context.Output.WriteLine($"store: {context.StoreSettings.Describe()}");
            context.Output.WriteLine($"schema version: {database} (this Mailroom: {known}), {state}");
            return database == known ? ExitCodes.Ok : ExitCodes.DataError;
        });
        return command;
    }

    private static Command Copy()
    {
        var data = CommonOptions.Data();
        var fromSqlite = new Option<string>("--from-sqlite")
        {
            Description = "The data folder of the SQLite store to copy from (the old server's --data)",
            Required = true,
        };
        var command = new Command(
            "copy",
            "Copy domains, accounts (with their passwords), shared mailboxes, rights, lists, messages, flags and the key behind unknown users' SCRAM salts from a SQLite store into the configured store; "
            + "what the target has already is skipped, so it can be run again. Messages in the trash are not copied.");
        command.Options.Add(fromSqlite);
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            var sourceDirectory = Path.GetFullPath(context.ParseResult.GetValue(fromSqlite)!);
            if (!File.Exists(Path.Combine(sourceDirectory, SqliteMailStore.DatabaseFileName)))
            {
                throw new AdminException(ExitCodes.Usage, $"there is no SQLite store in {sourceDirectory} (no {SqliteMailStore.DatabaseFileName})");
            }

            if (context.StoreSettings.Provider == StoreProvider.Sqlite && SameFolder(sourceDirectory, context.StoreSettings.DataDirectory))
            {
                throw new AdminException(ExitCodes.Usage, $"the configured store is the source itself ({context.StoreSettings.Describe()}): nothing to copy");
            }

            context.Output.WriteLine($"copying sqlite {Path.Combine(sourceDirectory, SqliteMailStore.DatabaseFileName)} into {context.StoreSettings.Describe()}");
            var source = await SqliteMailStore.OpenAsync(sourceDirectory, context.CancellationToken).ConfigureAwait(false);
            await using (source.ConfigureAwait(false))
            {
                var report = await StoreCopy.CopyAsync(source, context.Store, context.CancellationToken).ConfigureAwait(false);
                context.Output.WriteLine(report.Summary());
                context.Output.WriteLine("messages in the trash are not copied");
                if (report.TargetKeptItsSaltKey)
                {
                    context.Output.WriteLine("the target already had its own key for the SCRAM salts of unknown users and keeps it: those salts differ from the old server's");
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static bool SameFolder(string first, string second) =>
        string.Equals(
            Path.TrimEndingDirectorySeparator(Path.GetFullPath(first)),
            Path.TrimEndingDirectorySeparator(Path.GetFullPath(second)),
            OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
}
