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
    private const int Enospc = 28;
    private const int WindowsDiskFull = unchecked((int)0x80070070);
    private const int WindowsHandleDiskFull = unchecked((int)0x80070027);

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
        IOException io => new StorageException($"{operation}: {io.Message}", io) { IsFull = IsDiskFull(io) },
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

    // .NET on Unix reports an unmapped errno as the IOException's HResult (ENOSPC is 28 on Linux
    // and macOS); Windows uses ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL.
    private static bool IsDiskFull(IOException exception) =>
        exception.HResult is Enospc or WindowsDiskFull or WindowsHandleDiskFull
        || exception.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase)
        || exception.Message.Contains("not enough space on the disk", StringComparison.OrdinalIgnoreCase);
}
