using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Mailroom.Core.Accounts;

/// <summary>The parts of a stored SCRAM-SHA-256 credential (RFC 5802 section 3).</summary>
public sealed record ScramKeys(byte[] Salt, int Iterations, byte[] StoredKey, byte[] ServerKey);

/// <summary>
/// Salted, slow password hashes in a self-describing format:
/// <c>$scram-sha-256$i=600000$&lt;salt&gt;$&lt;StoredKey&gt;$&lt;ServerKey&gt;</c> (base64 parts).
/// <para>
/// This is the credential RFC 5802 section 3 tells a SCRAM server to keep:
/// <c>SaltedPassword = PBKDF2-HMAC-SHA256(password, salt, i)</c> (600,000 iterations, OWASP's
/// figure), <c>StoredKey = SHA-256(HMAC(SaltedPassword, "Client Key"))</c> and
/// <c>ServerKey = HMAC(SaltedPassword, "Server Key")</c>. The salted password itself is never
/// stored, so a stolen hash cannot log in by SCRAM, and a plain password is checked by deriving
/// the StoredKey again. The algorithm and its cost travel with each hash, so the cost can be raised
/// later (<see cref="NeedsRehash"/>).
/// </para>
/// <para>
/// The earlier format, <c>$pbkdf2-sha256$i=…$salt$hash</c>, still verifies for PLAIN and LOGIN;
/// such an account cannot use SCRAM until its password is set again.
/// </para>
/// </summary>
public sealed class PasswordHasher
{
    public const int DefaultIterations = 600_000;
    private const string Scheme = "scram-sha-256";
    private const string LegacyScheme = "pbkdf2-sha256";
    private const int SaltBytes = 16;
    private const int KeyBytes = 32;

    public PasswordHasher(int iterations = DefaultIterations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        Iterations = iterations;
    }

    public int Iterations { get; }

    public string Hash(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var (storedKey, serverKey) = DeriveKeys(password, salt, Iterations);
        return string.Create(CultureInfo.InvariantCulture, $"${Scheme}$i={Iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(storedKey)}${Convert.ToBase64String(serverKey)}");
    }

    /// <summary>Checks a password in time that does not depend on where the bytes differ.</summary>
    public static bool Verify(string password, string encoded)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (TryGetScramKeys(encoded, out var keys))
        {
            var (storedKey, _) = DeriveKeys(password, keys!.Salt, keys.Iterations);
            return CryptographicOperations.FixedTimeEquals(storedKey, keys.StoredKey);
        }

        var parts = Split(encoded, LegacyScheme, 5);
        if (parts is null || !TryIterations(parts[2], out var iterations) || !TryBase64(parts[3], out var salt) || !TryBase64(parts[4], out var expected))
        {
            return false;
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>The SCRAM-SHA-256 credential in a hash of the current format; false for any other.</summary>
    public static bool TryGetScramKeys(string encoded, out ScramKeys? keys)
    {
        keys = null;
        var parts = Split(encoded, Scheme, 6);
        if (parts is null || !TryIterations(parts[2], out var iterations) || !TryBase64(parts[3], out var salt) ||
            !TryBase64(parts[4], out var storedKey) || !TryBase64(parts[5], out var serverKey) ||
            storedKey.Length != KeyBytes || serverKey.Length != KeyBytes)
        {
            return false;
        }

        keys = new ScramKeys(salt, iterations, storedKey, serverKey);
        return true;
    }

    /// <summary>True for a hash of an older format or a lower cost: replace it at the next successful log-in.</summary>
    public bool NeedsRehash(string encoded) =>
        !TryGetScramKeys(encoded, out var keys) || keys!.Iterations < Iterations;

    /// <summary>RFC 5802 3: StoredKey and ServerKey from the password.</summary>
    private static (byte[] StoredKey, byte[] ServerKey) DeriveKeys(string password, byte[] salt, int iterations)
    {
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, KeyBytes);
        var storedKey = SHA256.HashData(HMACSHA256.HashData(salted, "Client Key"u8));
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        CryptographicOperations.ZeroMemory(salted);
        return (storedKey, serverKey);
    }

    private static string[]? Split(string? encoded, string scheme, int count)
    {
        var parts = (encoded ?? string.Empty).Split('$');
        return parts.Length == count && parts[0].Length == 0 && parts[1] == scheme && parts[2].StartsWith("i=", StringComparison.Ordinal) ? parts : null;
    }

    private static bool TryIterations(string part, out int iterations) =>
        int.TryParse(part.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out iterations) && iterations >= 1;

    private static bool TryBase64(string part, out byte[] bytes)
    {
        bytes = [];
        try
        {
            bytes = Convert.FromBase64String(part);
        }
        catch (FormatException)
        {
            return false;
        }

        return bytes.Length > 0;
    }
}
