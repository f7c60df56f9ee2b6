using System.Runtime.InteropServices;

namespace Mailroom.Core.Storage;

/// <summary>
/// fsync of a directory: flushing a new file's data does not make its name durable; on POSIX
/// systems the directory entry survives a power loss only once the directory itself is synced
/// (fsync(2), "Calling fsync() does not necessarily ensure that the entry in the directory
/// containing the file has also reached disk. For that an explicit fsync() on a file descriptor
/// for the directory is also needed."). Windows has no equivalent and needs none: NTFS journals
/// the metadata, so this is a no-op there. Shared by the stores and the audit log.
/// </summary>
public static partial class DirectorySync
{
    private const int EINTR = 4;
    private const int EINVAL = 22;

    public static void Sync(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        int fd;
        do
        {
            fd = Open(directory, ODirectoryFlags());
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == EINTR);

        if (fd < 0)
        {
            throw Error("open", directory);
        }

        try
        {
            // Some file systems cannot sync a directory and say EINVAL; there is nothing more to do there.
            if (FSync(fd) != 0 && Marshal.GetLastPInvokeError() != EINVAL)
            {
                throw Error("fsync", directory);
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    // O_RDONLY is 0 everywhere; O_DIRECTORY differs between kernels and architectures.
    private static int ODirectoryFlags()
    {
        if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            return OperatingSystem.IsMacOS() ? 0x100000 : 0x20000;
        }

        return RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64 ? 0x4000 : 0x10000;
    }

    private static IOException Error(string call, string directory)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} of directory {directory} failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
