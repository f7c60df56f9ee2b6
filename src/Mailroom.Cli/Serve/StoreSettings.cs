using System.Text.Json;
using Mailroom.Core.Storage;
using Mailroom.Storage.Postgres;
using Mailroom.Storage.Sqlite;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Mailroom.Cli.Serve;

/// <summary>Which store a server (or an admin command) runs on.</summary>
public enum StoreProvider
{
    /// <summary>The embedded default: <c>DATA/mailroom.db</c> and body files beside it.</summary>
    Sqlite,

    /// <summary>One PostgreSQL database shared by every node (docs/SCALING.md).</summary>
    Postgres,
}

/// <summary>
/// <c>Store:Provider</c> (sqlite or postgres), and for PostgreSQL <c>Store:ConnectionString</c>
/// and optionally <c>Store:PasswordFile</c>. The one place that turns the configuration into an
/// open <see cref="IMailStore"/>, a schema migration or a schema status.
/// </summary>
public sealed record StoreSettings(StoreProvider Provider, string DataDirectory, string? ConnectionString = null, string? PasswordFile = null)
{
    public const string SettingsFileName = "store-settings.json";

    public static StoreSettings From(IConfiguration configuration, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var data = Path.GetFullPath(dataDirectory);
        var provider = configuration["Store:Provider"] switch
        {
            null or "" => StoreProvider.Sqlite,
            var text when text.Equals("sqlite", StringComparison.OrdinalIgnoreCase) => StoreProvider.Sqlite,
            var text when text.Equals("postgres", StringComparison.OrdinalIgnoreCase) || text.Equals("postgresql", StringComparison.OrdinalIgnoreCase) => StoreProvider.Postgres,
            var text => throw new ArgumentException($"Store:Provider '{text}' is not sqlite or postgres."),
        };
        if (provider == StoreProvider.Sqlite)
        {
            return new StoreSettings(provider, data);
        }

        var connectionString = configuration["Store:ConnectionString"];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new ArgumentException("Store:Provider is postgres, so Store:ConnectionString must name the database (for example Host=db1;Database=mailroom;Username=mailroom).");
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException exception)
        {
            throw new ArgumentException($"Store:ConnectionString is not a valid PostgreSQL connection string: {exception.Message}", exception);
        }

        var passwordFile = configuration["Store:PasswordFile"] is { Length: > 0 } file ? Path.GetFullPath(file) : null;
        return new StoreSettings(provider, data, connectionString, passwordFile);
    }

    /// <summary>The configuration with the server's store settings (<see cref="SettingsFileName"/>) beneath it: what is configured here still wins.</summary>
    public static IConfiguration OverServerSettings(string dataDirectory, IConfiguration configuration) =>
        new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(Path.GetFullPath(dataDirectory), SettingsFileName), optional: true)
            .AddConfiguration(configuration)
            .Build();

    /// <summary>"sqlite DATA/mailroom.db" or "postgres host/database as user": for logs and messages; never the password.</summary>
    public string Describe()
    {
        if (Provider == StoreProvider.Sqlite)
        {
            return $"sqlite {Path.Combine(DataDirectory, SqliteMailStore.DatabaseFileName)}";
        }

        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        return $"postgres {builder.Host}:{builder.Port}/{builder.Database} as {builder.Username}";
    }

    public async Task<IMailStore> OpenAsync(CancellationToken cancellationToken) => Provider switch
    {
        StoreProvider.Postgres => await PostgresMailStore.OpenAsync(PostgresOptions(), cancellationToken).ConfigureAwait(false),
        _ => await SqliteMailStore.OpenAsync(DataDirectory, cancellationToken).ConfigureAwait(false),
    };

    /// <summary><c>mailroom db migrate</c>.</summary>
    public Task<SchemaMigration> MigrateAsync(CancellationToken cancellationToken) => Provider switch
    {
        StoreProvider.Postgres => PostgresMailStore.MigrateAsync(PostgresOptions(), cancellationToken),
        _ => SqliteMailStore.MigrateAsync(DataDirectory, cancellationToken),
    };

    /// <summary>The schema version in the store (0: none yet) and the one this Mailroom runs on.</summary>
    public async Task<(int Database, int Known)> ReadSchemaVersionAsync(CancellationToken cancellationToken) => Provider switch
    {
        StoreProvider.Postgres => (await PostgresMailStore.ReadSchemaVersionAsync(PostgresOptions(), cancellationToken).ConfigureAwait(false), PostgresMailStore.SchemaVersion),
        _ => (await SqliteMailStore.ReadSchemaVersionAsync(DataDirectory, cancellationToken).ConfigureAwait(false), SqliteMailStore.SchemaVersion),
    };

    /// <summary>
    /// Leaves <see cref="SettingsFileName"/> in the data folder, as <c>mailroom serve</c> runs on
    /// it, so admin commands given only <c>--data</c> reach the same store. A password written
    /// into the connection string is left out (use <c>Store:PasswordFile</c>, which is named).
    /// </summary>
    public void WriteServerSettings()
    {
        SettingsFile.Write(Path.Combine(DataDirectory, SettingsFileName), "Written by mailroom serve at each start: the store it runs on, for the admin commands. Never a password.", json =>
        {
            json.WriteStartObject("Store");
            json.WriteString(nameof(Provider), Provider.ToString().ToLowerInvariant());
            if (ConnectionString is not null)
            {
                var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { Password = null, SslPassword = null };
                json.WriteString(nameof(ConnectionString), builder.ConnectionString);
            }

            if (PasswordFile is not null)
            {
                json.WriteString(nameof(PasswordFile), PasswordFile);
            }

            json.WriteEndObject();
        });
    }

    private PostgresStoreOptions PostgresOptions() => new()
    {
        ConnectionString = ConnectionString!,
        PasswordFile = PasswordFile,
        SpoolDirectory = Path.Combine(DataDirectory, "spool"),
    };
}
