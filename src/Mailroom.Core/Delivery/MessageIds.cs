using System.Security.Cryptography;

namespace Mailroom.Core.Delivery;

/// <summary>
/// Message ids: 26 characters of Crockford base32 over 48 bits of milliseconds since the epoch and
/// 80 random bits (the ULID layout). They sort by arrival, and two nodes sharing one database
/// cannot collide in practice, so no id is handed out by a central counter.
/// </summary>
public static class MessageIds
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public static string New(TimeProvider? time = null)
    {
        var ms = (ulong)(time ?? TimeProvider.System).GetUtcNow().ToUnixTimeMilliseconds();
        Span<byte> bytes = stackalloc byte[16];
        for (var i = 0; i < 6; i++)
        {
            bytes[i] = (byte)(ms >> (8 * (5 - i)));
        }

        RandomNumberGenerator.Fill(bytes[6..]);
        return Encode(bytes);
    }

    private static string Encode(ReadOnlySpan<byte> bytes)
    {
        // 128 bits as 26 base32 digits: the first digit carries the top 3 bits.
        var value = new UInt128(
            (ulong)bytes[0] << 56 | (ulong)bytes[1] << 48 | (ulong)bytes[2] << 40 | (ulong)bytes[3] << 32 |
            (ulong)bytes[4] << 24 | (ulong)bytes[5] << 16 | (ulong)bytes[6] << 8 | bytes[7],
            (ulong)bytes[8] << 56 | (ulong)bytes[9] << 48 | (ulong)bytes[10] << 40 | (ulong)bytes[11] << 32 |
            (ulong)bytes[12] << 24 | (ulong)bytes[13] << 16 | (ulong)bytes[14] << 8 | bytes[15]);
        return string.Create(26, value, static (span, v) =>
        {
            for (var i = 25; i >= 0; i--)
            {
                span[i] = Alphabet[(int)(v & 31)];
                v >>= 5;
            }
        });
    }
}
