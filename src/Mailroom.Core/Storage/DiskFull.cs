namespace Mailroom.Core.Storage;

/// <summary>Whether an I/O failure means the disk is full (452 4.3.1 rather than 451 4.3.0).</summary>
public static class DiskFull
{
    private const int Enospc = 28;
    private const int WindowsDiskFull = unchecked((int)0x80070070);
    private const int WindowsHandleDiskFull = unchecked((int)0x80070027);

    // .NET on Unix reports an unmapped errno as the IOException's HResult (ENOSPC is 28 on Linux
    // and macOS); Windows uses ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL.
    public static bool Is(IOException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.HResult is Enospc or WindowsDiskFull or WindowsHandleDiskFull
            || exception.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase)
            || exception.Message.Contains("not enough space on the disk", StringComparison.OrdinalIgnoreCase);
    }
}
