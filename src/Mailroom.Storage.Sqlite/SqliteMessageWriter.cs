using Mailroom.Core.Storage;

namespace Mailroom.Storage.Sqlite;

/// <summary>
/// One delivery in progress: the body goes straight to its file; <see cref="CommitAsync"/> makes
/// the file durable and then records the message and its deliveries in one transaction.
/// Until that transaction commits the message is invisible; disposing without a commit deletes
/// the file.
/// </summary>
internal sealed class SqliteMessageWriter : IMessageWriter
{
    private readonly SqliteMailStore _store;
    private readonly MessageEnvelope _envelope;
    private readonly string _relativePath;
    private readonly string _fullPath;
    private FileStream? _file;
    private bool _committed;
    private bool _disposed;

    private SqliteMessageWriter(SqliteMailStore store, MessageEnvelope envelope, string relativePath, string fullPath, FileStream file)
    {
        _store = store;
        _envelope = envelope;
        _relativePath = relativePath;
        _fullPath = fullPath;
        _file = file;
    }

    public string MessageId => _envelope.MessageId;

    public long Length { get; private set; }

    public static SqliteMessageWriter Create(SqliteMailStore store, MessageEnvelope envelope, string relativePath, string fullPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);

        // CreateNew: an id is stored once; a second writer for the same id fails instead of
        // overwriting a body that may already be delivered.
        var file = new FileStream(fullPath, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            BufferSize = 64 * 1024,
            Options = FileOptions.Asynchronous,
        });
        return new SqliteMessageWriter(store, envelope, relativePath, fullPath, file);
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
    /// host later crashes". So nothing here returns before file, name and rows are on disk.
    /// </remarks>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        var file = Open();
        await StorageFaults.RunAsync("storing the message body", async () =>
        {
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);

            // Data first, then the name, then the database row that makes the message visible:
            // after a crash at any point either the row is missing (the sweep removes the file)
            // or both the row and the whole file are on disk.
            file.Flush(flushToDisk: true);
            await file.DisposeAsync().ConfigureAwait(false);
            _file = null;
            var directory = Path.GetDirectoryName(_fullPath)!;
            DirectorySync.Sync(directory);
            DirectorySync.Sync(Path.GetDirectoryName(directory)!);
        }).ConfigureAwait(false);

        var subject = await SubjectReader.ReadAsync(_fullPath, cancellationToken).ConfigureAwait(false);
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
        if (_file is not null)
        {
            await _file.DisposeAsync().ConfigureAwait(false);
            _file = null;
        }

        if (!_committed)
        {
            try
            {
                File.Delete(_fullPath);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // Not visible without its row; the orphan sweep at the next open removes it.
            }
        }
    }

    private FileStream Open()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _file ?? throw new InvalidOperationException("The message was already committed, or its commit failed.");
    }
}
