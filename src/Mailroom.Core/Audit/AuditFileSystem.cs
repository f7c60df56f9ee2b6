namespace Mailroom.Core.Audit;

/// <summary>
/// The writes the audit writer makes, behind a seam so tests can make the disk fill up, fail an
/// fsync or hold one back, and watch what reaches the disk when.
/// </summary>
internal interface IAuditFileSystem
{
    /// <summary>Creates a new log file (never an existing one), readable by the owner only.</summary>
    IAuditFile CreateNew(string path);

    /// <summary>Opens an existing log file to append to it, from <paramref name="length"/> on.</summary>
    IAuditFile OpenAppend(string path, long length);

    /// <summary>Makes a new file's name durable (fsync of the folder).</summary>
    void SyncFolder(string folder);

    /// <summary>
    /// Writes a small fixed-size file in place, at offset 0, creating it the first time. Not a
    /// new file renamed over the old one: that costs an inode allocation per call, which
    /// measured as the audit log's largest cost on the receive path. With <paramref name="durable"/>
    /// it is fsynced too (the folder is not: see <see cref="SyncFolder"/>).
    /// </summary>
    void Overwrite(string path, ReadOnlySpan<byte> contents, bool durable = false);

    /// <summary>
    /// Opens the small fixed-size file that <see cref="Overwrite"/> writes, to write it in place
    /// again and again without opening it each time (the writer replaces its head anchor after
    /// every batch).
    /// </summary>
    IAuditHeadFile OpenHead(string path);

    /// <summary>Removes a log file that was abandoned before anything reached it.</summary>
    void Delete(string path);
}

/// <summary>A head anchor file kept open: each write replaces its contents, at offset 0.</summary>
internal interface IAuditHeadFile : IDisposable
{
    void Write(ReadOnlySpan<byte> contents);
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

    public IAuditFile OpenAppend(string path, long length)
    {
        // An existing file keeps its mode; UnixCreateMode applies only to modes that create.
        var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Write, Share = FileShare.Read, BufferSize = 0 });
        if (stream.Length != length)
        {
            // Changed since it was read: start a new file rather than append after something unknown.
            stream.Dispose();
            throw new IOException($"{path} changed while the audit log was opening.");
        }

        stream.Position = length;
        return new DiskFile(stream);
    }

    public void SyncFolder(string folder) => Storage.DirectorySync.Sync(folder);

    public void Overwrite(string path, ReadOnlySpan<byte> contents, bool durable = false)
    {
        using var stream = new FileStream(path, PrivateFileOptions(FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read));
        stream.Write(contents);
        if (durable)
        {
            stream.Flush(flushToDisk: true);
        }
    }

    public IAuditHeadFile OpenHead(string path) =>
        new HeadFile(new FileStream(path, PrivateFileOptions(FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read)));

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

    private sealed class HeadFile(FileStream stream) : IAuditHeadFile
    {
        public void Write(ReadOnlySpan<byte> contents) => RandomAccess.Write(stream.SafeFileHandle, contents, 0);

        public void Dispose() => stream.Dispose();
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
