namespace Mailroom.Fuzz;

/// <summary>
/// Every target reads its first input byte as a control byte and the rest as data, so afl chooses
/// how the data arrives as well as what it is. The control byte seeds the chunk sizes: whole, one
/// byte at a time, or random runs of up to 64 or 4 bytes; the same byte always gives the same cut.
/// </summary>
internal readonly struct FuzzInput(byte[] input)
{
    public byte Control => input.Length == 0 ? (byte)0 : input[0];

    public ReadOnlySpan<byte> Data => input.Length == 0 ? [] : input.AsSpan(1);

    public byte[] DataArray => input.Length == 0 ? [] : input[1..];

    /// <summary>The lengths in which <paramref name="length"/> bytes arrive.</summary>
    public IEnumerable<int> Chunks(int length)
    {
        var random = new Random(Control);
        var mode = Control & 3;
        var left = length;
        while (left > 0)
        {
            var size = mode switch
            {
                0 => left,
                1 => 1,
                2 => random.Next(1, 65),
                _ => random.Next(1, 5),
            };
            size = Math.Min(size, left);
            yield return size;
            left -= size;
        }
    }
}
