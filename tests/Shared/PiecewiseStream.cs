namespace Mailroom.Testing.Streams;

/// <summary>
/// A read-only stream that hands out its bytes in the given piece sizes, as a network would: one
/// read never returns more than the current piece. When the pieces run out, the rest comes in one
/// read. One source file, compiled into the client's property tests and the fuzz harness.
/// </summary>
internal sealed class PiecewiseStream(byte[] bytes, IEnumerable<int> pieces) : Stream
{
    private readonly IEnumerator<int> _pieces = pieces.GetEnumerator();
    private int _position;
    private int _leftInPiece;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => bytes.Length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_leftInPiece == 0)
        {
            // A piece of 0 would read as the end of the stream: every piece is at least 1 octet.
            _leftInPiece = _pieces.MoveNext() ? Math.Max(1, _pieces.Current) : int.MaxValue;
        }

        var size = Math.Min(Math.Min(buffer.Length, _leftInPiece), bytes.Length - _position);
        bytes.AsSpan(_position, size).CopyTo(buffer);
        _position += size;
        _leftInPiece -= size;
        return size;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _pieces.Dispose();
        }

        base.Dispose(disposing);
    }
}
