using System.Net.Sockets;
using Mailroom.Core.Storage;
using Npgsql;

namespace Mailroom.Storage.Postgres;

/// <summary>
/// The one place where database and disk failures of the PostgreSQL store become
/// <see cref="StorageException"/> (451 4.3.0, or 452 4.3.1 when the database is full), and
/// where a lost connection empties the pool, so the store recovers by itself once the database
/// is back instead of handing out dead connections one failure at a time.
/// </summary>
internal sealed class PostgresFaults(NpgsqlDataSource dataSource)
{
    public static bool IsUniqueViolation(Exception exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public static bool IsStoreFault(Exception exception) =>
        exception is NpgsqlException or IOException or SocketException or UnauthorizedAccessException or TimeoutException;

    /// <summary>
    /// The connection, not the statement, failed: a broken socket, a refused connect, the server
    /// shutting down (class 57P: admin_shutdown, crash_shutdown, cannot_connect_now) or a
    /// connection exception (class 08). Not a wait that timed out (an exhausted pool, a slow
    /// statement): emptying the pool then would only add reconnections to an overload.
    /// </summary>
    public static bool IsConnectionLost(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.SqlState.StartsWith("08", StringComparison.Ordinal) || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal),
        NpgsqlException npgsql => npgsql.InnerException is IOException or SocketException,
        IOException or SocketException => true,
        _ => false,
    };

    public StorageException Translate(Exception exception, string operation)
    {
        if (IsConnectionLost(exception))
        {
            dataSource.Clear();
        }

        return exception switch
        {
            // 53100 disk_full, 53200 out_of_memory, 53300 too_many_connections: class 53 is
            // "insufficient resources"; only disk_full means the store is full.
            PostgresException postgres => new StorageException($"{operation}: database error {postgres.SqlState}: {postgres.MessageText}", postgres)
            {
                IsFull = postgres.SqlState == PostgresErrorCodes.DiskFull,
            },
            IOException io => new StorageException($"{operation}: {io.Message}", io) { IsFull = DiskFull.Is(io) },
            _ => new StorageException($"{operation}: {exception.Message}", exception),
        };
    }

    public async Task<T> RunAsync<T>(string operation, Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception exception) when (IsStoreFault(exception))
        {
            throw Translate(exception, operation);
        }
    }

    public async Task RunAsync(string operation, Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception exception) when (IsStoreFault(exception))
        {
            throw Translate(exception, operation);
        }
    }
}
