using System.CommandLine;
using Mailroom.Cli.Serve;

namespace Mailroom.Cli.Admin;

/// <summary>
/// <c>mailroom db migrate|status</c>: the store's schema. SQLite migrates itself when it is
/// opened; PostgreSQL only here, once for all nodes, since a node that changed the schema at
/// start would change it under the others. A node refuses to start on any other version.
/// </summary>
internal static class DbCommands
{
    public static Command Create()
    {
        var db = new Command("db", "The store's schema: migrate it, or show its version");
        db.Subcommands.Add(Migrate());
        db.Subcommands.Add(Status());
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
}
