using System.Security.Cryptography;

namespace Mailroom.Core.Audit;

/// <summary>
/// The real encryption for the audit log (issue 5, item 3): AES-256-GCM with a 16-byte tag, so a
/// changed byte or a wrong key is an error rather than garbage. Each entry has a random 16-byte
/// salt, and its own subkey (32 bytes) and nonce (12 bytes) from HKDF-SHA256(key, salt, info
/// "mailroom-audit-aes-256-gcm") (RFC 5869). The output is salt | ciphertext | tag.
/// <para>
/// Random 96-bit nonces under one key are good for only about 2^32 entries (NIST SP 800-38D,
/// 8.3), which a busy server writes in weeks; with a fresh subkey per entry a nonce never repeats
/// under a key, and the 128-bit salts collide only after about 2^64 entries.
/// </para>
/// </summary>
public sealed class AesGcmAuditCipher : IAuditCipher
{
    private const int SaltSize = 16;
    private const int SubkeySize = 32;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private static readonly byte[] Info = "mailroom-audit-aes-256-gcm"u8.ToArray();

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

    /// <summary>Encrypts with a fresh random salt, and so a subkey and nonce of its own.</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var output = new byte[SaltSize + plaintext.Length + TagSize];
        var salt = output.AsSpan(0, SaltSize);
        RandomNumberGenerator.Fill(salt);
        Span<byte> derived = stackalloc byte[SubkeySize + NonceSize];
        try
        {
            Derive(salt, derived);
            using var aes = new AesGcm(derived[..SubkeySize], TagSize);
            aes.Encrypt(derived[SubkeySize..], plaintext, output.AsSpan(SaltSize, plaintext.Length), output.AsSpan(SaltSize + plaintext.Length), associatedData);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(derived);
        }

        return output;
    }

    /// <summary>Decrypts and checks the tag.</summary>
    /// <exception cref="AuditLogException">The key is wrong, or the data or the entry it belongs to was altered.</exception>
    public byte[] Decrypt(ReadOnlySpan<byte> data, ReadOnlySpan<byte> associatedData)
    {
        if (data.Length < SaltSize + TagSize)
        {
            throw new AuditLogException($"The {Name} data is {data.Length} bytes long, too short to hold a salt and a tag.");
        }

        var plaintext = new byte[data.Length - SaltSize - TagSize];
        Span<byte> derived = stackalloc byte[SubkeySize + NonceSize];
        try
        {
            Derive(data[..SaltSize], derived);
            using var aes = new AesGcm(derived[..SubkeySize], TagSize);
            aes.Decrypt(derived[SubkeySize..], data[SaltSize..^TagSize], data[^TagSize..], plaintext, associatedData);
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new AuditLogException($"The entry does not decrypt with {Name} key {KeyId}: the key is wrong or the entry was altered.", ex);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(derived);
        }

        return plaintext;
    }

    /// <summary>The entry's subkey and nonce: HKDF-SHA256(key, salt, info), 44 bytes.</summary>
    private void Derive(ReadOnlySpan<byte> salt, Span<byte> output) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _key, output, salt, Info);
}
