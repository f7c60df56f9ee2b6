using System.Globalization;

namespace Mailroom.Core.Audit;

/// <summary>
/// The original design's Caesar cipher, kept as an option because the issue asks for it (issue 5,
/// item 3) and labelled for what it is: obfuscation, not encryption. It protects nothing: it adds
/// a fixed shift to every byte, like the server's XCAESAR, so anyone who reads the log recovers
/// the text after trying at most 255 shifts, and it detects no change (the chain hash still does).
/// Use it only to keep entries from being read at a glance; use <see cref="AesGcmAuditCipher"/>
/// to keep them secret.
/// </summary>
public sealed class CaesarAuditCipher : IAuditCipher
{
    private readonly byte _shift;

    /// <summary>Takes the shift, 1 to 255 (0 would change nothing).</summary>
    public CaesarAuditCipher(byte shift)
    {
        ArgumentOutOfRangeException.ThrowIfZero(shift);
        _shift = shift;
        KeyId = "shift-" + shift.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>"caesar", as written in every entry it shifts.</summary>
    public string Name => "caesar";

    /// <summary>"shift-N": the "key" is no secret, so it is written out.</summary>
    public string KeyId { get; }

    /// <summary>True, always: this cipher hides nothing from anyone who tries.</summary>
    public bool IsObfuscationOnly => true;

    /// <summary>Adds the shift to every byte; the associated data is ignored, since nothing is authenticated.</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var output = plaintext.ToArray();
        for (var i = 0; i < output.Length; i++)
        {
            output[i] += _shift;
        }

        return output;
    }

    /// <summary>Subtracts the shift from every byte; a wrong shift gives garbage, which the reader reports as unreadable.</summary>
    public byte[] Decrypt(ReadOnlySpan<byte> data, ReadOnlySpan<byte> associatedData)
    {
        var output = data.ToArray();
        for (var i = 0; i < output.Length; i++)
        {
            output[i] -= _shift;
        }

        return output;
    }
}
