using Mailroom.Core.Storage;

namespace Mailroom.Storage.Sqlite;

/// <summary>
/// One delivery in progress: the body goes straight to <c>messages/tmp/&lt;id&gt;.eml</c>;
/// <see cref="CommitAsync"/> makes the file durable, moves it to its final folder and then records
/// the message and its deliveries in one transaction. Until that transaction commits the message
/// is invisible; disposing without a commit deletes the file, wherever it is by then.
/// </summary>
internal sealed class SqliteMessageWriter : IMessageWriter
{
    private readonly SqliteMailStore _store;
    private readonly MessageEnvelope _envelope;
    private readonly string _relativePath;
    private readonly string _tempPath;
    private readonly string _finalPath;
    private FileStream? _file;
    private bool _renamed;
    private bool _committed;
    private bool _disposed;

    private SqliteMessageWriter(SqliteMailStore store, MessageEnvelope envelope, string relativePath, string tempPath, string finalPath, FileStream file)
    {
        _store = store;
        _envelope = envelope;
        _relativePath = relativePath;
        _tempPath = tempPath;
        _finalPath = finalPath;
        _file = file;
    }

    public string MessageId => _envelope.MessageId;

    public long Length { get; private set; }

    public static SqliteMessageWriter Create(SqliteMailStore store, MessageEnvelope envelope, string relativePath, string tempPath, string finalPath)
    {
        // CreateNew: a second writer for an id in flight fails instead of sharing its file.
        var file = store.OpenBodyFile(tempPath, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            BufferSize = 64 * 1024,
            Options = FileOptions.Asynchronous,
        });
        return new SqliteMessageWriter(store, envelope, relativePath, tempPath, finalPath, file);
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var file = Open();
        await StorageFaults.RunAsync("writing the message body", async () =>
            await file.WriteAsync(data, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        Length += data.Length;
    }

    /// <remarks>
    /// RFC 5321 6.1: "When the receiver-SMTP accepts a piece of mail (by sending a "250 OK"
    /// message in response to DATA), it is accepting responsibility for delivering or relaying
    /// the message. ... It MUST NOT lose the message for frivolous reasons, such as because the
    /// host later crashes". So nothing here returns before file, name and rows are on disk, in
    /// this order: file data, rename, directories, database row. After a crash at any point
    /// either the row is missing (the message was never accepted) or the row, the name and the
    /// whole file are all on disk.
    /// </remarks>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        var file = Open();
        await StorageFaults.RunAsync("storing the message body", async () =>
        {
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
            _store.CommitRecorder?.Record(CommitStep.BodySynced, _tempPath);
            await file.DisposeAsync().ConfigureAwait(false);
            _file = null;
        }).ConfigureAwait(false);

        var subject = await SubjectReader.ReadAsync(_tempPath, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        await StorageFaults.RunAsync("storing the message body", () =>
        {
            Publish();
            return Task.CompletedTask;
        }).ConfigureAwait(false);

        await _store.RecordMessageAsync(_envelope, _relativePath, Length, subject, cancellationToken).ConfigureAwait(false);
        _committed = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (_file is not null)
            {
                // Closing writes what is still buffered, and on a full disk that fails again.
                // The file is being thrown away, so that failure changes nothing.
                await _file.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (IOException)
        {
        }
        finally
        {
            _file = null;
            if (!_committed)
            {
                try
                {
                    // After the rename the final file is ours: the move refuses to replace a file.
                    File.Delete(_renamed ? _finalPath : _tempPath);
                }
                catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
                {
                    // Not visible without its row. A file left in tmp/ goes at the sweep of a later open.
                }
            }
        }
    }

    /// <summary>
    /// Moves the synced file to its final folder and makes the move durable: the final folder
    /// gains an entry, <c>tmp/</c> loses one, and <c>messages/</c> gains the folder when it is new
    /// (see <see cref="BodyFiles.IsEntryDurable"/>). fsync(2): "Calling fsync() does not
    /// necessarily ensure that the entry in the directory containing the file has also reached disk."
    /// </summary>
    private void Publish()
    {
        var bodies = _store.Bodies;
        var folder = Path.GetDirectoryName(_finalPath)!;
        var newFolder = !bodies.IsEntryDurable(folder);
        if (newFolder)
        {
            Directory.CreateDirectory(folder);
        }

        File.Move(_tempPath, _finalPath, overwrite: false);
        _renamed = true;
        _store.CommitRecorder?.Record(CommitStep.BodyRenamed, _finalPath);

        SyncDirectory(folder);
        if (newFolder)
        {
            SyncDirectory(bodies.Root);
            bodies.MarkEntryDurable(folder);
        }

        SyncDirectory(bodies.TempRoot);
    }

    private void SyncDirectory(string directory)
    {
        DirectorySync.Sync(directory);
        _store.CommitRecorder?.Record(CommitStep.DirectorySynced, directory);
    }

    private FileStream Open()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _file ?? throw new InvalidOperationException("The message was already committed, or its commit failed.");
    }
}
