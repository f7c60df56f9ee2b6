using Mailroom.Core.Storage;

using Microsoft.Data.Sqlite;

namespace Mailroom.Storage.Sqlite;

/// <summary>
/// The one place where database and disk failures become <see cref="StorageException"/>, so the
/// server sees a single kind of store fault (451 4.3.0, or 452 4.3.1 when the store is full).
/// Cancellation, conflicts and argument errors pass through unchanged.
/// </summary>
internal static class StorageFaults
{
    private const int SqliteFull = 13;
    private const int SqliteConstraint = 19;

    public static bool IsUniqueViolation(SqliteException exception) =>
        exception.SqliteErrorCode == SqliteConstraint;

    public static bool IsStoreFault(Exception exception) =>
        exception is SqliteException or IOException or UnauthorizedAccessException;

    public static StorageException Translate(Exception exception, string operation) => exception switch
    {
        SqliteException sqlite => new StorageException($"{operation}: database error {sqlite.SqliteErrorCode}: {sqlite.Message}", sqlite)
        {
            IsFull = (sqlite.SqliteErrorCode & 0xFF) == SqliteFull,
        },
        IOException io => new StorageException($"{operation}: {io.Message}", io) { IsFull = DiskFull.Is(io) },
        _ => new StorageException($"{operation}: {exception.Message}", exception),
    };

    public static async Task<T> RunAsync<T>(string operation, Func<Task<T>> action)
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

    public static async Task RunAsync(string operation, Func<Task> action)
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
