using System.Buffers;

namespace Mailroom.Core.Storage;

/// <summary>
/// A message body, or its first bytes, held in memory while it arrives: rented from the shared
/// pool, grown by doubling, and cleared when it goes back (the pool is shared, and this held
/// someone's mail). Both stores keep small bodies here before their commit.
/// </summary>
public sealed class BodyBuffer : IDisposable
{
    private byte[]? _array;

    /// <summary>Bytes kept so far.</summary>
    public int Length { get; private set; }

    public ReadOnlySpan<byte> Span => _array.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => _array.AsMemory(0, Length);

    public void Append(ReadOnlySpan<byte> data)
    {
        var needed = Length + data.Length;
        if ((_array?.Length ?? 0) < needed)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(4096, (_array?.Length ?? 0) * 2)));
            Span.CopyTo(larger);
            Return();
            _array = larger;
        }

        data.CopyTo(_array.AsSpan(Length));
        Length = needed;
    }

    /// <summary>Drops what is kept and gives <paramref name="size"/> bytes to fill (a read buffer for what comes next).</summary>
    public Memory<byte> Reuse(int size)
    {
        Length = 0;
        if ((_array?.Length ?? 0) < size)
        {
            Return();
            _array = ArrayPool<byte>.Shared.Rent(size);
        }

        return _array.AsMemory(0, size);
    }

    public void Dispose()
    {
        Return();
        Length = 0;
    }

    private void Return()
    {
        if (_array is not null)
        {
            ArrayPool<byte>.Shared.Return(_array, clearArray: true);
            _array = null;
        }
    }
}
