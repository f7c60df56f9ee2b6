namespace Mailroom.Core.Audit;

/// <summary>
/// No encryption, the default: entries are plain JSON Lines that jq and log shippers read as they
/// are (issue 5, item 4). The chain hash still makes every entry tamper-evident.
/// </summary>
public sealed class NoAuditCipher : IAuditCipher
{
    /// <summary>The one instance; the cipher has no state.</summary>
    public static readonly NoAuditCipher Instance = new();

    private NoAuditCipher()
    {
    }

    /// <summary>"none": how a log in the clear names itself.</summary>
    public string Name => "none";

    /// <summary>Empty: there is no key.</summary>
    public string KeyId => "";

    /// <summary>False: it does not pretend to hide anything.</summary>
    public bool IsObfuscationOnly => false;

    /// <summary>Returns a copy of the plaintext; the writer writes clear entries as JSON fields and never calls this.</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData) => plaintext.ToArray();

    /// <summary>Returns a copy of the data.</summary>
    public byte[] Decrypt(ReadOnlySpan<byte> data, ReadOnlySpan<byte> associatedData) => data.ToArray();
}
