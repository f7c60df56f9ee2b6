using System.Security.Cryptography;

namespace Mailroom.Core.Audit;

/// <summary>
/// The real encryption for the audit log (issue 5, item 3): AES-256-GCM with a random 12-byte
/// nonce per entry, so equal events never look equal on disk, and a 16-byte tag, so a changed
/// byte or a wrong key is an error rather than garbage. The output is nonce | ciphertext | tag.
/// With 96-bit random nonces one key is good for about 2^32 entries (NIST SP 800-38D, 8.3); rotate
/// the key long before that.
/// </summary>
public sealed class AesGcmAuditCipher : IAuditCipher
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly byte[] _key;

    /// <summary>Takes the 32-byte key, usually from <see cref="AuditKeys.ReadKeyFile"/>; the key never goes into the log, only its id.</summary>
    public AesGcmAuditCipher(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length != 32)
        {
            throw new ArgumentException($"An AES-256-GCM key has 32 bytes, not {key.Length}.", nameof(key));
        }

        _key = (byte[])key.Clone();
        KeyId = AuditKeys.KeyId(_key);
    }

    /// <summary>"aes-256-gcm", as written in every entry it encrypts.</summary>
    public string Name => "aes-256-gcm";

    /// <summary>The key's id (<see cref="AuditKeys.KeyId"/>), written in every entry so the reader can pick the key.</summary>
    public string KeyId { get; }

    /// <summary>False: this is real encryption.</summary>
    public bool IsObfuscationOnly => false;

    /// <summary>Encrypts with a fresh random nonce.</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var output = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(NonceSize, plaintext.Length), output.AsSpan(NonceSize + plaintext.Length), associatedData);
        return output;
    }

    /// <summary>Decrypts and checks the tag.</summary>
    /// <exception cref="AuditLogException">The key is wrong, or the data or the entry it belongs to was altered.</exception>
    public byte[] Decrypt(ReadOnlySpan<byte> data, ReadOnlySpan<byte> associatedData)
    {
        if (data.Length < NonceSize + TagSize)
        {
            throw new AuditLogException($"The {Name} data is {data.Length} bytes long, too short to hold a nonce and a tag.");
        }

        var plaintext = new byte[data.Length - NonceSize - TagSize];
        try
        {
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(data[..NonceSize], data[NonceSize..^TagSize], data[^TagSize..], plaintext, associatedData);
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new AuditLogException($"The entry does not decrypt with {Name} key {KeyId}: the key is wrong or the entry was altered.", ex);
        }

        return plaintext;
    }
}
