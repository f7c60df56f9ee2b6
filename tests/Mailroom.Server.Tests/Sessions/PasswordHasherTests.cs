using System.Security.Cryptography;
using System.Text;
using Mailroom.Core.Accounts;

namespace Mailroom.Server.Tests.Sessions;

public class PasswordHasherTests
{
    private static readonly PasswordHasher Hasher = new(iterations: 1000);

    [Fact]
    public void A_hash_verifies_its_password_and_no_other()
    {
        var hash = Hasher.Hash("correct horse");
        Assert.StartsWith("$scram-sha-256$i=1000$", hash, StringComparison.Ordinal);
        Assert.True(PasswordHasher.Verify("correct horse", hash));
        Assert.False(PasswordHasher.Verify("correct horse ", hash));
        Assert.False(PasswordHasher.Verify("correct horse", "$scram-sha-256$i=1000$garbage"));
        Assert.NotEqual(hash, Hasher.Hash("correct horse"));
    }

    /// <summary>
    /// RFC 5802 3: the server keeps StoredKey and ServerKey, never the salted password, which
    /// would let whoever reads the database log in by SCRAM without knowing the password.
    /// </summary>
    [Fact]
    public void The_salted_password_is_not_stored()
    {
        var hash = Hasher.Hash("correct horse");
        Assert.True(PasswordHasher.TryGetScramKeys(hash, out var keys));
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes("correct horse"), keys!.Salt, keys.Iterations, HashAlgorithmName.SHA256, 32);
        Assert.DoesNotContain(Convert.ToBase64String(salted), hash, StringComparison.Ordinal);
        Assert.Equal(SHA256.HashData(HMACSHA256.HashData(salted, "Client Key"u8)), keys.StoredKey);
        Assert.Equal(HMACSHA256.HashData(salted, "Server Key"u8), keys.ServerKey);
    }

    [Fact]
    public void The_earlier_pbkdf2_format_still_verifies_and_asks_to_be_replaced()
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var legacy = $"$pbkdf2-sha256$i=1000${Convert.ToBase64String(salt)}${Convert.ToBase64String(Rfc2898DeriveBytes.Pbkdf2("old password"u8, salt, 1000, HashAlgorithmName.SHA256, 32))}";
        Assert.True(PasswordHasher.Verify("old password", legacy));
        Assert.False(PasswordHasher.Verify("other", legacy));
        Assert.False(PasswordHasher.TryGetScramKeys(legacy, out _));
        Assert.True(Hasher.NeedsRehash(legacy));
        Assert.False(Hasher.NeedsRehash(Hasher.Hash("x")));
    }
}
