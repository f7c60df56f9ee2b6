namespace Mailroom.Core.Audit;

/// <summary>
/// The macs of the last entries seen, by sequence number. After a failed write whose file could
/// not be cut back, the writer writes the same entries again into a new file; with this, readers
/// recognise the second copies as identical (same number, same mac) rather than as tampering.
/// </summary>
internal sealed class RecentMacs
{
    private const int Size = 1 << 16;
    private readonly (long Sequence, byte[]? Mac)[] _slots = new (long, byte[]?)[Size];

    public void Add(long sequence, byte[] mac) => _slots[sequence & (Size - 1)] = (sequence, mac);

    public bool Matches(long sequence, byte[] mac)
    {
        var (known, knownMac) = _slots[sequence & (Size - 1)];
        return known == sequence && knownMac is not null && knownMac.AsSpan().SequenceEqual(mac);
    }

    public byte[]? Get(long sequence)
    {
        var (known, mac) = _slots[sequence & (Size - 1)];
        return known == sequence ? mac : null;
    }
}
