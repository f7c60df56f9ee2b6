using System.Collections.Concurrent;
using Mailroom.Core.Storage;
using Npgsql;

namespace Mailroom.Storage.Postgres;

/// <summary>
/// The store for several server nodes: every row and every message body lives in one
/// PostgreSQL database, so what one node writes the others see at their next query. Nothing is
/// cached in the node: a new user, a list member, a granted right or a flag counts on every node
/// at once. Thread-safe: each operation takes a connection from Npgsql's pool; PostgreSQL's
/// own locking arbitrates between operations, and between nodes.
/// </summary>
public sealed partial class PostgresMailStore : IMailStore
{
    public const string InboxName = "INBOX";

    /// <summary>Bodies up to this size stay in memory while DATA is in progress; larger ones spool to a file.</summary>
    public const int MemoryBodyLimit = 1024 * 1024;

    /// <summary>The largest row of <c>message_chunks</c>.</summary>
    public const int ChunkSize = 1024 * 1024;

    /// <summary>The connection pool's size per node unless the connection string sets <c>Maximum Pool Size</c>.</summary>
    public const int DefaultMaxPoolSize = 25;

    /// <summary>The first key of the advisory locks on addresses (<see cref="LockAddressAsync"/>); the schema's lock is of the one-key kind.</summary>
    private const int AddressLockSpace = 0x4D52;

    private readonly NpgsqlDataSource _dataSource;
    private readonly ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);
    private int _disposed;

    private PostgresMailStore(NpgsqlDataSource dataSource, string spoolDirectory)
    {
        _dataSource = dataSource;
        SpoolDirectory = spoolDirectory;
        Faults = new PostgresFaults(dataSource);
    }

    /// <summary>The newest schema version this Mailroom knows.</summary>
    public static int SchemaVersion => PostgresSchema.CurrentVersion;

    public string SpoolDirectory { get; }

    internal PostgresFaults Faults { get; }

    /// <summary>
    /// Opens the store on a database whose schema is exactly <see cref="SchemaVersion"/>, and
    /// refuses (<see cref="SchemaVersionException"/>) any other: a node never changes the schema
    /// under other nodes by itself. Also refuses a server that does not make commits durable,
    /// since a 250 must mean the message survives a crash.
    /// </summary>
    public static async Task<PostgresMailStore> OpenAsync(PostgresStoreOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var dataSource = BuildDataSource(options);
        var store = new PostgresMailStore(dataSource, Path.GetFullPath(options.SpoolDirectory));
        try
        {
            await store.Faults.RunAsync("opening the store", async () =>
            {
                var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    PostgresSchema.Check(await PostgresSchema.ReadVersionAsync(connection, null, cancellationToken).ConfigureAwait(false));
                    await CheckDurabilityAsync(connection, cancellationToken).ConfigureAwait(false);
                }

                Directory.CreateDirectory(store.SpoolDirectory);
                store.SweepSpool();
            }).ConfigureAwait(false);
            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary><c>mailroom db migrate</c>: brings the database to <see cref="SchemaVersion"/>, creating the schema in an empty one.</summary>
    public static async Task<SchemaMigration> MigrateAsync(PostgresStoreOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var dataSource = BuildDataSource(options);
        await using (dataSource.ConfigureAwait(false))
        {
            return await new PostgresFaults(dataSource).RunAsync("migrating the schema", async () =>
            {
                var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    return await PostgresSchema.MigrateAsync(connection, cancellationToken).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        }
    }

    /// <summary>The schema version recorded in the database (0 when it has none), without checking it.</summary>
    public static async Task<int> ReadSchemaVersionAsync(PostgresStoreOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var dataSource = BuildDataSource(options);
        await using (dataSource.ConfigureAwait(false))
        {
            return await new PostgresFaults(dataSource).RunAsync("reading the schema version", async () =>
            {
                var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    return await PostgresSchema.ReadVersionAsync(connection, null, cancellationToken).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The connection string with the password from <see cref="PostgresStoreOptions.PasswordFile"/>,
    /// and defaults of our own where the configuration does not set them: a shorter wait than
    /// Npgsql's (a node whose database is gone should answer 451 within seconds, not hold the
    /// session for 15), and a smaller pool.
    /// </summary>
    internal static NpgsqlDataSource BuildDataSource(PostgresStoreOptions options) =>
        new NpgsqlDataSourceBuilder(BuildConnectionString(options)).Build();

    /// <summary>The connection string <see cref="BuildDataSource"/> connects with, password included.</summary>
    internal static string BuildConnectionString(PostgresStoreOptions options)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        }
        catch (ArgumentException exception)
        {
            throw new ArgumentException($"Store:ConnectionString is not a valid PostgreSQL connection string: {exception.Message}", exception);
        }

        if (options.PasswordFile is { Length: > 0 } passwordFile)
        {
            try
            {
                builder.Password = File.ReadAllText(passwordFile).TrimEnd('\r', '\n');
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw new StorageException($"The database password file {passwordFile} cannot be read: {exception.Message}", exception);
            }
        }

        var given = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        if (!IsSet(given, "Timeout"))
        {
            builder.Timeout = 5;
        }

        // Npgsql's default of 100 is PostgreSQL's default max_connections for all nodes together:
        // two busy nodes would be refused connections ("too many clients") and answer 451. A
        // delivery holds a connection for milliseconds, so a few dozen serve hundreds of sessions.
        if (!IsSet(given, "Maximum Pool Size"))
        {
            builder.MaxPoolSize = DefaultMaxPoolSize;
        }

        if (!IsSet(given, "Application Name"))
        {
            builder.ApplicationName = "mailroom";
        }

        return builder.ConnectionString;
    }

    /// <summary>
    /// Whether the connection string gave <paramref name="keyword"/> (its canonical name). Not
    /// ContainsKey: Npgsql's answers whether the keyword exists at all.
    /// </summary>
    private static bool IsSet(NpgsqlConnectionStringBuilder builder, string keyword) =>
        builder.Keys.Cast<string>().Contains(keyword, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A server with <c>fsync</c> or <c>synchronous_commit</c> off acknowledges commits it may
    /// lose on a crash; our 250 would then be a promise nobody keeps.
    /// </summary>
    private static async Task CheckDurabilityAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT current_setting('fsync'), current_setting('synchronous_commit');", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var fsync = reader.GetString(0);
        var synchronousCommit = reader.GetString(1);
        if (fsync == "off" || synchronousCommit == "off")
        {
            throw new StorageException(
                $"PostgreSQL runs with fsync={fsync} and synchronous_commit={synchronousCommit}: a commit there may be lost in a crash, and Mailroom acknowledges mail only once it is durable. Turn both on for this database.");
        }
    }

    internal async Task<NpgsqlConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="work"/> in one transaction on a connection of its own.</summary>
    internal Task<T> InTransactionAsync<T>(string operation, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        return Faults.RunAsync(operation, async () =>
        {
            var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    var result = await work(connection, transaction).ConfigureAwait(false);
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return result;
                }
            }
        });
    }

    /// <summary>
    /// Serialises, until the transaction ends, every change that gives <paramref name="address"/>
    /// a meaning (an account, a list, a shared mailbox), on every node: each checks that the
    /// address is none of the others, and under READ COMMITTED two such checks on two nodes
    /// would both pass without it.
    /// </summary>
    internal static async Task LockAddressAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string address, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({AddressLockSpace}, hashtext(@address));", connection, transaction);
        command.Parameters.AddWithValue("address", address);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>True when the query finds a row.</summary>
    internal static async Task<bool> ExistsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, string value, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddWithValue("value", value);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null;
    }

    /// <summary>One statement on a connection of its own; how many rows it changed.</summary>
    internal Task<int> ExecuteAsync(string operation, string sql, Action<NpgsqlParameterCollection> bind, CancellationToken cancellationToken)
    {
        return Faults.RunAsync(operation, async () =>
        {
            var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                await using var command = new NpgsqlCommand(sql, connection);
                bind(command.Parameters);
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        });
    }

    internal Task<IReadOnlyList<T>> QueryAsync<T>(
        string operation,
        string sql,
        Action<NpgsqlParameterCollection>? bind,
        Func<NpgsqlDataReader, T> read,
        CancellationToken cancellationToken)
    {
        return Faults.RunAsync(operation, async () =>
        {
            var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                await using var command = new NpgsqlCommand(sql, connection);
                bind?.Invoke(command.Parameters);
                return await ReadAllAsync(command, read, cancellationToken).ConfigureAwait(false);
            }
        });
    }

    internal static async Task<IReadOnlyList<T>> ReadAllAsync<T>(NpgsqlCommand command, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    /// <summary>Claims a message id for a delivery in progress on this node; false when one is already in flight.</summary>
    internal bool TryClaim(string messageId) => _inFlight.TryAdd(messageId, 0);

    internal void Release(string messageId) => _inFlight.TryRemove(messageId, out _);

    /// <summary>
    /// Removes spool files a crash left behind. A delivery in progress holds its file open with
    /// FileShare.None (a lock on Unix too), so a file that opens that way belongs to no delivery,
    /// however young: a node restarted at once after a crash clears its spool at once, and an
    /// admin command opening the store beside a running server leaves the server's files alone.
    /// </summary>
    private void SweepSpool()
    {
        foreach (var file in new DirectoryInfo(SpoolDirectory).EnumerateFiles("*.spool"))
        {
            try
            {
                using (new FileStream(file.FullName, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                }

                file.Delete();
            }
            catch (IOException)
            {
                // In use by a delivery (or gone meanwhile).
            }
        }
    }

    private static string Normalize(string value) => StoredAddress.Normalize(value);

    private static string NormalizeDomain(string domain) => StoredAddress.Domain(domain);

    private static string NormalizeAddress(string address, out string domain) => StoredAddress.Mailbox(address, out domain);
}
