namespace Mailroom.Core.Audit;

/// <summary>
/// The writes the audit writer makes, behind a seam so tests can make the disk fill up, fail an
/// fsync or hold one back, and watch what reaches the disk when.
/// </summary>
internal interface IAuditFileSystem
{
    /// <summary>Creates a new log file (never an existing one), readable by the owner only.</summary>
    IAuditFile CreateNew(string path);

    /// <summary>Makes a new file's name durable (fsync of the folder).</summary>
    void SyncFolder(string folder);

    /// <summary>Replaces a small file whole: written beside it, then renamed over it.</summary>
    void Replace(string path, ReadOnlySpan<byte> contents);

    /// <summary>Removes a log file that was abandoned before anything reached it.</summary>
    void Delete(string path);
}

/// <summary>One open log file, written only at its end.</summary>
internal interface IAuditFile : IDisposable
{
    /// <summary>Appends the bytes with one write call.</summary>
    void Append(ReadOnlySpan<byte> bytes);

    /// <summary>fsync: returns when everything appended is on the disk.</summary>
    void Sync();

    /// <summary>Cuts the file back to <paramref name="length"/> bytes.</summary>
    void Truncate(long length);
}

/// <summary>The real disk.</summary>
internal sealed class AuditFileSystem : IAuditFileSystem
{
    public static readonly AuditFileSystem Instance = new();

    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public IAuditFile CreateNew(string path) =>
        new DiskFile(new FileStream(path, PrivateFileOptions(FileMode.CreateNew, FileAccess.Write, FileShare.Read)));

    public void SyncFolder(string folder) => DirectorySync.Sync(folder);

    public void Replace(string path, ReadOnlySpan<byte> contents)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, PrivateFileOptions(FileMode.Create, FileAccess.Write)))
        {
            stream.Write(contents);
        }

        File.Move(temporary, path, overwrite: true);
    }

    public void Delete(string path) => File.Delete(path);

    /// <summary>Creates a folder (and its parents) readable by the owner only; an existing folder keeps the mode its admin gave it.</summary>
    public static void CreatePrivateFolder(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, OwnerOnlyFolder);
        }
    }

    /// <summary>Options for a file only the owner may read (0600 on Unix), unbuffered so each write is one write call.</summary>
    public static FileStreamOptions PrivateFileOptions(FileMode mode, FileAccess access, FileShare share = FileShare.None)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnlyFile;
        }

        return options;
    }

    private sealed class DiskFile(FileStream stream) : IAuditFile
    {
        public void Append(ReadOnlySpan<byte> bytes) => stream.Write(bytes);

        public void Sync() => stream.Flush(flushToDisk: true);

        public void Truncate(long length)
        {
            stream.SetLength(length);
            stream.Position = length;
        }

        public void Dispose() => stream.Dispose();
    }
}
