using Mailroom.Core.Storage;

namespace Mailroom.Storage.Postgres;

/// <summary>
/// A stored body read chunk by chunk from <c>message_chunks</c>: forward only, one chunk in
/// memory at a time. A chunk missing before <c>size</c> bytes were read is damage, and fails the
/// read with a <see cref="StorageException"/> rather than ending the message early.
/// </summary>
internal sealed class ChunkedBodyStream(PostgresMailStore store, string messageId, long size, byte[]? first) : Stream
{
    private byte[] _chunk = first ?? [];
    private int _offset;

    // Without a first chunk from the lookup, the first read asks for chunk 0 again (and finds it
    // missing): starting at 1 would hand out chunk 1 as the start of the message.
    private int _nextSeq = first is null ? 0 : 1;
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => size;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty || _position >= size)
        {
            return 0;
        }

        if (_offset == _chunk.Length)
        {
            _chunk = await store.ReadChunkAsync(messageId, _nextSeq, cancellationToken).ConfigureAwait(false)
                ?? throw Damaged();
            _nextSeq++;
            _offset = 0;
        }

        if (_chunk.Length == 0)
        {
            throw Damaged();
        }

        var count = (int)Math.Min(Math.Min(buffer.Length, _chunk.Length - _offset), size - _position);
        _chunk.AsSpan(_offset, count).CopyTo(buffer.Span);
        _offset += count;
        _position += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private StorageException Damaged() =>
        new($"reading a message: message {messageId} has {_position} of its {size} bytes stored; its body is damaged");
}
