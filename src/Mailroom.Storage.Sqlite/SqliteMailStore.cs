using System.Runtime.CompilerServices;
using Mailroom.Core.Storage;

using Microsoft.Data.Sqlite;

namespace Mailroom.Storage.Sqlite;

/// <summary>
/// The embedded store: <c>mailroom.db</c> (SQLite, WAL) and the message bodies as files beside it.
/// Thread-safe: each operation takes its own connection from Microsoft.Data.Sqlite's pool. Writes
/// in one store queue on an async gate (<see cref="WriteAsync{T}"/>), so a waiting writer holds
/// no thread; SQLite's write lock and busy_timeout only arbitrate between processes (the admin
/// commands may open the same folder while the server runs).
/// </summary>
public sealed partial class SqliteMailStore : IMailStore
{
    public const string DatabaseFileName = "mailroom.db";

    /// <summary>
    /// A file in <c>messages/tmp/</c> is left over from a crash or a failed abort only once it is
    /// this old: another process may have a delivery in flight right now.
    /// </summary>
    internal static readonly TimeSpan OrphanGracePeriod = TimeSpan.FromMinutes(15);

    internal const int BusyTimeoutMilliseconds = 5000;

    /// <summary>The WAL is cut back to this size after a checkpoint, however large a group of inline bodies made it.</summary>
    private const long JournalSizeLimit = 64L * 1024 * 1024;

    private readonly string _connectionString;
    private readonly BodyFiles _bodies;

    /// <summary>
    /// One writer at a time inside this store. Microsoft.Data.Sqlite's async methods run
    /// synchronously, so a writer waiting in busy_timeout blocks its thread; with the gate the
    /// others wait here without one. Never disposed: disposing would fault writers still queued,
    /// and a SemaphoreSlim whose wait handle is never used holds no OS resource.
    /// </summary>
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);
    private int _writesInside;
    private int _peakWritesInside;
    private int _closing;
    private int _disposed;

    private SqliteMailStore(string dataDirectory, string connectionString)
    {
        DataDirectory = dataDirectory;
        _connectionString = connectionString;
        _bodies = new BodyFiles(dataDirectory);
        GroupCommit = new GroupCommit(this);
    }

    /// <summary>
    /// Bodies up to this size are stored in the database (<c>message_bodies</c>) and commit in a
    /// group with other deliveries; larger ones are files. 128 KiB keeps every common message,
    /// up to a small attachment, in the group commit, while a large body still streams to disk
    /// without being held in memory.
    /// </summary>
    public const int DefaultInlineBodyLimit = 128 * 1024;

    /// <summary>The inline limit in force; tests of the file path set 0.</summary>
    internal int InlineBodyLimit { get; set; } = DefaultInlineBodyLimit;

    internal GroupCommit GroupCommit { get; }

    public string DataDirectory { get; }

    internal BodyFiles Bodies => _bodies;

    /// <summary>Set by tests to watch the durable steps of each commit; null in production.</summary>
    internal ICommitRecorder? CommitRecorder { get; set; }

    /// <summary>Opens a new body file; tests replace it to make writes fail as a full disk does.</summary>
    internal Func<string, FileStreamOptions, FileStream> OpenBodyFile { get; set; } = static (path, options) => new FileStream(path, options);

    /// <summary>The most writes ever in progress at once in this store: the gate keeps it at 1.</summary>
    internal int PeakConcurrentWrites => Volatile.Read(ref _peakWritesInside);

    public static Task<SqliteMailStore> OpenAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        return StorageFaults.RunAsync("opening the store", async () =>
        {
            var full = Path.GetFullPath(dataDirectory);
            Directory.CreateDirectory(full);
            var connectionString = new SqliteConnectionStringBuilder
            {
                DataSource = Path.Combine(full, DatabaseFileName),
                Mode = SqliteOpenMode.ReadWriteCreate,
                Pooling = true,
                ForeignKeys = true,
                DefaultTimeout = 30,
            }.ToString();

            var store = new SqliteMailStore(full, connectionString);
            try
            {
                await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
                return store;
            }
            catch
            {
                await store.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        });
    }

    /// <summary>
    /// <c>mailroom db migrate</c> on the embedded store: brings the database in
    /// <paramref name="dataDirectory"/> to <see cref="SchemaVersion"/> (creating it when missing).
    /// Opening the store does the same, so a server on SQLite needs no separate step.
    /// </summary>
    public static async Task<SchemaMigration> MigrateAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        var store = await OpenAsync(dataDirectory, cancellationToken).ConfigureAwait(false);
        await using (store.ConfigureAwait(false))
        {
            return store.Migration!;
        }
    }

    /// <summary>The newest schema version this Mailroom knows.</summary>
    public static int SchemaVersion => Schema.CurrentVersion;

    /// <summary>The schema version of the database in <paramref name="dataDirectory"/> (0 when there is none yet), read without changing anything.</summary>
    public static Task<int> ReadSchemaVersionAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        var path = Path.Combine(Path.GetFullPath(dataDirectory), DatabaseFileName);
        return StorageFaults.RunAsync("reading the schema version", async () =>
        {
            if (!File.Exists(path))
            {
                return 0;
            }

            var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
            var connection = new SqliteConnection(connectionString);
            await using (connection.ConfigureAwait(false))
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT CASE WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version') THEN (SELECT COALESCE(MAX(version), 0) FROM schema_version) ELSE 0 END;";
                return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
            }
        });
    }

    /// <summary>What opening this store did to its schema.</summary>
    public SchemaMigration? Migration { get; private set; }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _closing, 1) == 0)
        {
            // Deliveries already queued still commit; new ones are refused (StorageException).
            // Only then does the store refuse connections.
            await GroupCommit.CompleteAsync().ConfigureAwait(false);
            Volatile.Write(ref _disposed, 1);

            // Closes the pooled connections of this database only; other stores in the process
            // keep theirs. The last close checkpoints the WAL into the database file.
            using var connection = new SqliteConnection(_connectionString);
            SqliteConnection.ClearPool(connection);
        }
    }

    /// <summary>Claims a message id for a delivery in progress in this store; false when one is already in flight.</summary>
    internal bool TryClaim(string messageId) => _inFlight.TryAdd(messageId, 0);

    internal void Release(string messageId) => _inFlight.TryRemove(messageId, out _);

    /// <summary>The SQLite connections (pooled across opens) whose per-connection settings are made.</summary>
    private readonly ConditionalWeakTable<SQLitePCL.sqlite3, object> _configured = [];

    private static readonly object Configured = new();

    internal async Task<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

            // Per-connection settings (journal_mode is kept in the file). synchronous=FULL: in
            // WAL mode NORMAL may lose the last commits on power loss; FULL syncs the WAL at every
            // commit, which is what "250 OK only after a durable commit" needs. They last as long
            // as the SQLite connection, which the pool keeps open across many opens: set once per
            // handle, not parsed and run again for every query.
            var handle = connection.Handle!;
            if (!_configured.TryGetValue(handle, out _))
            {
                using var pragmas = connection.CreateCommand();
                pragmas.CommandText = $"PRAGMA synchronous = FULL; PRAGMA busy_timeout = {BusyTimeoutMilliseconds}; PRAGMA journal_size_limit = {JournalSizeLimit};";
                await pragmas.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                _configured.AddOrUpdate(handle, Configured);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs one write on a connection of its own, behind the write gate. Every statement that
    /// changes the database goes through here.
    /// </summary>
    internal Task<T> WriteAsync<T>(string operation, Func<SqliteConnection, Task<T>> write, CancellationToken cancellationToken)
    {
        return StorageFaults.RunAsync(operation, async () =>
        {
            await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            var inside = Interlocked.Increment(ref _writesInside);
            if (inside > Volatile.Read(ref _peakWritesInside))
            {
                Volatile.Write(ref _peakWritesInside, inside);
            }

            try
            {
                var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    return await write(connection).ConfigureAwait(false);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _writesInside);
                _writeGate.Release();
            }
        });
    }

    internal Task WriteAsync(string operation, Func<SqliteConnection, Task> write, CancellationToken cancellationToken) =>
        WriteAsync(
            operation,
            async connection =>
            {
                await write(connection).ConfigureAwait(false);
                return true;
            },
            cancellationToken);

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            using (var wal = connection.CreateCommand())
            {
                wal.CommandText = "PRAGMA journal_mode = WAL;";
                var mode = (string?)await wal.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                {
                    throw new StorageException($"The database could not switch to WAL mode (journal_mode is {mode}).");
                }
            }

            Migration = await Schema.MigrateAsync(connection, cancellationToken).ConfigureAwait(false);

            CreateDurably(_bodies.Root);
            CreateDurably(_bodies.TempRoot);
            SweepTemp(cancellationToken);
        }
    }

    /// <summary>Creates a folder and, when it is new, syncs its parent so the folder survives power loss.</summary>
    private static void CreateDurably(string folder)
    {
        if (!Directory.Exists(folder))
        {
            Directory.CreateDirectory(folder);
            DirectorySync.Sync(Path.GetDirectoryName(folder)!);
        }
    }

    /// <summary>
    /// Removes old files from <c>messages/tmp/</c>: left by a crash before a commit renamed them,
    /// or by an abort whose delete failed. A file there has no row by construction, so this
    /// needs no query and only reads one folder, which is empty when nothing is in flight. This
    /// process's own deliveries are never touched, however long their client takes; another
    /// process's are safe for <see cref="OrphanGracePeriod"/> after their last write. Best
    /// effort: a file that cannot be removed now is tried again at the next sweep.
    /// </summary>
    private void SweepTemp(CancellationToken cancellationToken)
    {
        var cutoff = DateTime.UtcNow - OrphanGracePeriod;
        try
        {
            foreach (var file in _bodies.EnumerateTemp())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (file.LastWriteTimeUtc > cutoff || _inFlight.ContainsKey(Path.GetFileNameWithoutExtension(file.Name)))
                {
                    continue;
                }

                try
                {
                    file.Delete();
                }
                catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
                {
                    // Costs disk space only until the next sweep.
                }
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // The folder cannot be read now; the next sweep tries again.
        }
    }

    private static string Normalize(string value) => StoredAddress.Normalize(value);
}
