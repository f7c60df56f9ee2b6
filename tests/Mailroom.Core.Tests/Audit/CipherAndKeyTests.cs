using System.Security.Cryptography;
using System.Text;
using Mailroom.Core.Audit;

namespace Mailroom.Core.Tests.Audit;

public sealed class CipherAndKeyTests : AuditTestBase
{
    private static readonly byte[] Plain = "{\"kind\":\"login\"}"u8.ToArray();
    private static readonly byte[] Bound = "7|2026-11-28T18:30:00.000Z|node-a"u8.ToArray();

    [Fact]
    public void Aes_gcm_round_trips_with_a_fresh_nonce_each_time()
    {
        var cipher = new AesGcmAuditCipher(RandomNumberGenerator.GetBytes(32));

        var once = cipher.Encrypt(Plain, Bound);
        var twice = cipher.Encrypt(Plain, Bound);

        Assert.Equal(16 + Plain.Length + 16, once.Length);
        Assert.NotEqual(once, twice);
        Assert.Equal(Plain, cipher.Decrypt(once, Bound));
        Assert.False(cipher.IsObfuscationOnly);
    }

    [Fact]
    public void Aes_gcm_encrypts_each_entry_under_its_own_subkey_and_nonce_from_hkdf_of_a_random_salt()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var data = new AesGcmAuditCipher(key).Encrypt(Plain, Bound);

        // salt | ciphertext | tag, with (subkey, nonce) = HKDF-SHA256(key, salt, "mailroom-audit-aes-256-gcm").
        var derived = HKDF.DeriveKey(HashAlgorithmName.SHA256, key, 44, data[..16], "mailroom-audit-aes-256-gcm"u8.ToArray());
        var plain = new byte[Plain.Length];
        using var aes = new AesGcm(derived[..32], 16);
        aes.Decrypt(derived[32..], data[16..^16], data[^16..], plain, Bound);
        Assert.Equal(Plain, plain);
    }

    [Fact]
    public void Aes_gcm_refuses_a_changed_salt()
    {
        var cipher = new AesGcmAuditCipher(RandomNumberGenerator.GetBytes(32));
        var data = cipher.Encrypt(Plain, Bound);

        data[3] ^= 1;
        Assert.Throws<AuditLogException>(() => cipher.Decrypt(data, Bound));
    }

    [Fact]
    public void Aes_gcm_refuses_a_wrong_key_other_associated_data_or_a_changed_byte()
    {
        var cipher = new AesGcmAuditCipher(RandomNumberGenerator.GetBytes(32));
        var data = cipher.Encrypt(Plain, Bound);

        Assert.Throws<AuditLogException>(() => new AesGcmAuditCipher(RandomNumberGenerator.GetBytes(32)).Decrypt(data, Bound));
        Assert.Throws<AuditLogException>(() => cipher.Decrypt(data, "8|2026-11-28T18:30:00.000Z|node-a"u8));
        data[20] ^= 1;
        Assert.Throws<AuditLogException>(() => cipher.Decrypt(data, Bound));
        Assert.Throws<AuditLogException>(() => cipher.Decrypt(new byte[10], Bound));
        Assert.Throws<ArgumentException>(() => new AesGcmAuditCipher(new byte[16]));
    }

    [Fact]
    public void Caesar_shifts_every_byte_and_says_it_is_obfuscation_only()
    {
        var cipher = new CaesarAuditCipher(3);

        byte[] plain = [(byte)'a', (byte)'b', (byte)'z', 0xFF];
        var shifted = cipher.Encrypt(plain, []);

        Assert.Equal([(byte)'d', (byte)'e', (byte)'}', 0x02], shifted);
        Assert.Equal(plain, cipher.Decrypt(shifted, []));
        Assert.True(cipher.IsObfuscationOnly);
        Assert.Equal(("caesar", "shift-3"), (cipher.Name, cipher.KeyId));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CaesarAuditCipher(0));
    }

    [Fact]
    public void The_keyring_always_knows_none_and_any_caesar_shift_and_otherwise_only_what_was_added()
    {
        var keyring = new AuditKeyring();
        var aes = new AesGcmAuditCipher(RandomNumberGenerator.GetBytes(32));

        Assert.True(keyring.TryGet("none", "", out var none));
        Assert.Same(NoAuditCipher.Instance, none);
        Assert.True(keyring.TryGet("caesar", "shift-200", out var caesar));
        Assert.Equal("shift-200", caesar.KeyId);
        Assert.False(keyring.TryGet("caesar", "shift-0", out _));
        Assert.False(keyring.TryGet("caesar", "shift-256", out _));
        Assert.False(keyring.TryGet("aes-256-gcm", aes.KeyId, out _));

        keyring.Add(aes);
        Assert.True(keyring.TryGet("aes-256-gcm", aes.KeyId, out var found));
        Assert.Same(aes, found);
    }

    [Fact]
    public void A_key_id_is_the_first_eight_bytes_of_the_keys_sha256_in_hex()
    {
        var key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

        Assert.Equal(Convert.ToHexString(SHA256.HashData(key))[..16].ToLowerInvariant(), AuditKeys.KeyId(key));
        Assert.Equal(AuditKeys.KeyId(key), new AesGcmAuditCipher(key).KeyId);
        Assert.NotEqual(AuditKeys.KeyId(key), AuditKeys.KeyId(RandomNumberGenerator.GetBytes(32)));
    }

    [Fact]
    public void A_created_key_file_reads_back_is_private_and_is_never_overwritten()
    {
        var path = Path.Combine(Root, "keys", "audit.key");
        AuditKeys.CreateKeyFile(path);
        var text = File.ReadAllText(path);

        Assert.Matches("^[A-Za-z0-9+/]{43}=\n$", text);
        Assert.Equal(Convert.FromBase64String(text.Trim()), AuditKeys.ReadKeyFile(path));
        var ex = Assert.Throws<AuditLogException>(() => AuditKeys.CreateKeyFile(path));
        Assert.Contains("already exists", ex.Message, StringComparison.Ordinal);
        Assert.Equal(text, File.ReadAllText(path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        }
    }

    [Fact]
    public void A_key_file_may_hold_hex_or_raw_bytes_and_anything_else_is_refused_plainly()
    {
        Directory.CreateDirectory(Root);
        var key = RandomNumberGenerator.GetBytes(32);
        var hex = Path.Combine(Root, "hex.key");
        var raw = Path.Combine(Root, "raw.key");
        var bad = Path.Combine(Root, "bad.key");
        File.WriteAllText(hex, Convert.ToHexString(key) + "\r\n");
        File.WriteAllBytes(raw, key);
        File.WriteAllText(bad, Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)));

        Assert.Equal(key, AuditKeys.ReadKeyFile(hex));
        Assert.Equal(key, AuditKeys.ReadKeyFile(raw));
        var ex = Assert.Throws<AuditLogException>(() => AuditKeys.ReadKeyFile(bad));
        Assert.Contains("does not hold a 32-byte key", ex.Message, StringComparison.Ordinal);
        Assert.Throws<AuditLogException>(() => AuditKeys.ReadKeyFile(Path.Combine(Root, "missing.key")));
    }

    [Fact]
    public void The_chain_key_is_made_on_first_use_and_the_same_afterwards()
    {
        var path = Path.Combine(Root, "data", "audit-chain.key");

        var first = AuditKeys.LoadOrCreateChainKey(path);
        var again = AuditKeys.LoadOrCreateChainKey(path);

        Assert.Equal(32, first.Length);
        Assert.Equal(first, again);
    }

    [Fact]
    public void The_configured_cipher_is_made_by_name_and_an_unknown_name_lists_the_valid_ones()
    {
        Directory.CreateDirectory(Root);
        var keyFile = Path.Combine(Root, "aes.key");
        AuditKeys.CreateKeyFile(keyFile);

        Assert.Same(NoAuditCipher.Instance, AuditCiphers.Create("none", null, 0));
        Assert.Equal(AuditKeys.KeyId(AuditKeys.ReadKeyFile(keyFile)), AuditCiphers.Create("aes-256-gcm", keyFile, 0).KeyId);
        Assert.Equal("shift-9", AuditCiphers.Create("caesar", null, 9).KeyId);
        Assert.Throws<ArgumentException>(() => AuditCiphers.Create("aes-256-gcm", null, 0));
        Assert.Throws<ArgumentException>(() => AuditCiphers.Create("caesar", null, 0));
        var ex = Assert.Throws<ArgumentException>(() => AuditCiphers.Create("rot13", null, 0));
        Assert.Contains("none, aes-256-gcm, caesar", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_aes_key_never_appears_in_the_log()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        await WriteRunAsync(3, options: Options(new AesGcmAuditCipher(key)));

        var text = File.ReadAllText(Assert.Single(LogFiles()));
        Assert.DoesNotContain(Convert.ToBase64String(key), text, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(key), text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(Encoding.ASCII.GetString(Encoding.ASCII.GetBytes(AuditKeys.KeyId(key))), text, StringComparison.Ordinal);
    }
}
