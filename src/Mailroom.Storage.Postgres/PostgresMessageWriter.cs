using Mailroom.Core.Storage;

namespace Mailroom.Storage.Postgres;

/// <summary>
/// One delivery in progress. The body is held in memory up to
/// <see cref="PostgresMailStore.MemoryBodyLimit"/>, beyond that in a spool file of this node
/// (deleted when the writer is disposed, whatever happened). Nothing reaches the database until
/// <see cref="CommitAsync"/>, which writes the message, its body and its deliveries in one
/// transaction: until that commits the message is invisible on every node, and after it nothing
/// of it depends on this node. So no connection is held while a client sends DATA slowly.
/// </summary>
internal sealed class PostgresMessageWriter : IMessageWriter
{
    private readonly PostgresMailStore _store;
    private readonly MessageEnvelope _envelope;
    private readonly BodyBuffer _memory = new();
    private FileStream? _spool;
    private bool _committed;
    private bool _disposed;

    public PostgresMessageWriter(PostgresMailStore store, MessageEnvelope envelope)
    {
        _store = store;
        _envelope = envelope;
    }

    public string MessageId => _envelope.MessageId;

    public long Length { get; private set; }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed)
        {
            throw new InvalidOperationException("The message was already committed.");
        }

        if (_spool is null && _memory.Length + data.Length <= PostgresMailStore.MemoryBodyLimit)
        {
            _memory.Append(data.Span);
        }
        else
        {
            await _store.Faults.RunAsync("spooling the message body", async () =>
            {
                if (_spool is null)
                {
                    _spool = OpenSpool();
                    await _spool.WriteAsync(_memory.Memory, cancellationToken).ConfigureAwait(false);
                }

                await _spool.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);

            // The memory keeps the first bytes for the subject, however large the first writes were.
            if (_memory.Length < SubjectReader.Limit)
            {
                _memory.Append(data.Span[..Math.Min(data.Length, SubjectReader.Limit - _memory.Length)]);
            }
        }

        Length += data.Length;
    }

    /// <remarks>
    /// RFC 5321 6.1: "When the receiver-SMTP accepts a piece of mail (by sending a "250 OK"
    /// message in response to DATA), it is accepting responsibility for delivering or relaying
    /// the message. ... It MUST NOT lose the message for frivolous reasons, such as because the
    /// host later crashes". The spool file is never the durable copy, so it is never fsynced:
    /// the transaction's commit is the one durable step, and it holds the whole body.
    /// </remarks>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed)
        {
            throw new InvalidOperationException("The message was already committed.");
        }

        string? subject;
        if (_spool is null)
        {
            subject = SubjectReader.Read(_memory.Span, truncated: false);
        }
        else
        {
            await _store.Faults.RunAsync("spooling the message body", () => _spool.FlushAsync(cancellationToken)).ConfigureAwait(false);
            subject = SubjectReader.Read(_memory.Span, truncated: true);
            _spool.Position = 0;
        }

        await _store.RecordMessageAsync(_envelope, Length, subject, NextChunkAsync, cancellationToken).ConfigureAwait(false);
        _committed = true;

        async Task<ReadOnlyMemory<byte>> NextChunkAsync(int seq, ReadOnlyMemory<byte> previous)
        {
            if (_spool is null)
            {
                return seq == 0 ? _memory.Memory : ReadOnlyMemory<byte>.Empty;
            }

            // The memory holds the first bytes, already in the spool and read for the subject;
            // it is reused for each chunk, which is sent before the next is read.
            var chunk = _memory.Reuse(PostgresMailStore.ChunkSize);
            var read = await _spool.ReadAtLeastAsync(chunk, chunk.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            return chunk[..read];
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _store.Release(_envelope.MessageId);
        _memory.Dispose();

        if (_spool is not null)
        {
            try
            {
                // DeleteOnClose: the spool file goes with the handle.
                await _spool.DisposeAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // Thrown away either way; a file left behind goes at a later open's sweep.
            }

            _spool = null;
        }
    }

    private FileStream OpenSpool() =>
        new(
            Path.Combine(_store.SpoolDirectory, $"{_envelope.MessageId}-{Guid.NewGuid():N}.spool"),
            new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                BufferSize = 64 * 1024,
                Options = FileOptions.Asynchronous | FileOptions.DeleteOnClose,
            });
}
