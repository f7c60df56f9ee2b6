namespace Mailroom.Core.Audit;

/// <summary>
/// How an entry's event fields are protected on disk (issue 5, item 3: a pluggable cipher). Every
/// encrypted entry names its cipher and key id, so a log written over years with several keys and
/// ciphers stays readable with a keyring that holds them all.
/// </summary>
public interface IAuditCipher
{
    /// <summary>The name written in every entry ("none", "aes-256-gcm", "caesar"), so a reader can pick the cipher back.</summary>
    string Name { get; }

    /// <summary>Names the key without revealing it, so a reader finds the right key in its keyring (see <see cref="AuditKeys.KeyId"/>).</summary>
    string KeyId { get; }

    /// <summary>True for a cipher that only hides text from a casual glance; the CLI says so, so nobody mistakes it for encryption.</summary>
    bool IsObfuscationOnly { get; }

    /// <summary>Protects one entry's event fields; <paramref name="associatedData"/> ties the result to its entry so it cannot be moved to another.</summary>
    byte[] Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData);

    /// <summary>Recovers the event fields.</summary>
    /// <exception cref="AuditLogException">The key is wrong or the data was altered.</exception>
    byte[] Decrypt(ReadOnlySpan<byte> data, ReadOnlySpan<byte> associatedData);
}
