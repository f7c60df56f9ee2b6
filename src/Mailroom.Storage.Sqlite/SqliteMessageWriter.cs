using Mailroom.Core.Storage;

namespace Mailroom.Storage.Sqlite;

/// <summary>
/// One delivery in progress. A body up to the store's inline limit stays in memory and is stored
/// as a row of <c>message_bodies</c>, in the same transaction as its message and deliveries; a
/// larger one goes to <c>messages/tmp/&lt;id&gt;.eml</c> as it arrives, and
/// <see cref="CommitAsync"/> makes that file durable and moves it to its final folder before the
/// rows are recorded. Either way the rows commit through the store's group commit, and until
/// they do the message is invisible; disposing without a commit deletes the file, wherever it
/// is by then.
/// </summary>
internal sealed class SqliteMessageWriter : IMessageWriter
{
    private readonly SqliteMailStore _store;
    private readonly MessageEnvelope _envelope;
    private readonly string _relativePath;
    private readonly string _tempPath;
    private readonly string _finalPath;
    private readonly BodyBuffer _memory = new();
    private FileStream? _file;
    private bool _renamed;
    private bool _committed;
    private bool _disposed;

    public SqliteMessageWriter(SqliteMailStore store, MessageEnvelope envelope, string relativePath, string tempPath, string finalPath)
    {
        _store = store;
        _envelope = envelope;
        _relativePath = relativePath;
        _tempPath = tempPath;
        _finalPath = finalPath;
    }

    public string MessageId => _envelope.MessageId;

    public long Length { get; private set; }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed)
        {
            throw new InvalidOperationException("The message was already committed, or its commit failed.");
        }

        if (_file is null && _memory.Length + data.Length <= _store.InlineBodyLimit)
        {
            _memory.Append(data.Span);
        }
        else
        {
            await StorageFaults.RunAsync("writing the message body", async () =>
            {
                if (_file is null)
                {
                    // CreateNew: a file left at this name by anyone else is never shared.
                    _file = _store.OpenBodyFile(_tempPath, new FileStreamOptions
                    {
                        Mode = FileMode.CreateNew,
                        Access = FileAccess.Write,
                        Share = FileShare.Read,
                        BufferSize = 64 * 1024,
                        Options = FileOptions.Asynchronous,
                    });
                    await _file.WriteAsync(_memory.Memory, cancellationToken).ConfigureAwait(false);
                    _memory.Dispose();
                }

                await _file.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }

        Length += data.Length;
    }

    /// <remarks>
    /// RFC 5321 6.1: "When the receiver-SMTP accepts a piece of mail (by sending a "250 OK"
    /// message in response to DATA), it is accepting responsibility for delivering or relaying
    /// the message. ... It MUST NOT lose the message for frivolous reasons, such as because the
    /// host later crashes". So nothing here returns before the body and the rows are on disk.
    /// An inline body commits in the rows' own transaction. A file body is made durable first,
    /// in this order: file data, rename, directories; then the rows. After a crash at any point
    /// either the row is missing (the message was never accepted) or the row and the whole body
    /// are on disk.
    /// </remarks>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed)
        {
            throw new InvalidOperationException("The message was already committed, or its commit failed.");
        }

        PendingDelivery delivery;
        if (_file is null)
        {
            var body = _memory.Span.ToArray();
            _memory.Dispose();
            delivery = new PendingDelivery(_envelope, string.Empty, body, Length, SubjectReader.Read(body));
        }
        else
        {
            var file = _file;
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
            delivery = new PendingDelivery(_envelope, _relativePath, null, Length, subject);
        }

        // From here the rows may commit whatever happens to this call: it waits for the outcome.
        _committed = true;
        try
        {
            await _store.GroupCommit.CommitAsync(delivery).ConfigureAwait(false);
        }
        catch
        {
            _committed = false;
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _memory.Dispose();
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
                    // An inline body never had a file; deleting a missing one is no error.
                    File.Delete(_renamed ? _finalPath : _tempPath);
                }
                catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
                {
                    // Not visible without its row. A file left in tmp/ goes at the sweep of a later open.
                }
            }

            // After the file is gone: a second writer for the id must not find it.
            _store.Release(_envelope.MessageId);
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
}
