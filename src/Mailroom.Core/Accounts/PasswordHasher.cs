using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Mailroom.Core.Accounts;

/// <summary>
/// Salted, slow password hashes in a self-describing format:
/// <c>$pbkdf2-sha256$i=600000$&lt;salt, base64&gt;$&lt;hash, base64&gt;</c>. The algorithm and its cost travel
/// with each hash, so the cost can be raised later and old hashes still verify
/// (<see cref="NeedsRehash"/> says when to replace one at the next successful login).
/// PBKDF2-HMAC-SHA256 at 600,000 iterations is OWASP's recommendation; it needs no native code.
/// </summary>
public sealed class PasswordHasher
{
    public const int DefaultIterations = 600_000;
    private const string Scheme = "pbkdf2-sha256";
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

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
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, Iterations, HashAlgorithmName.SHA256, HashBytes);
        return string.Create(CultureInfo.InvariantCulture, $"${Scheme}$i={Iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}");
    }

    /// <summary>Checks a password in time that does not depend on where the bytes differ.</summary>
    public static bool Verify(string password, string encoded)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!TryDecode(encoded, out var iterations, out var salt, out var expected))
        {
            return false;
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>
    /// The SCRAM-SHA-256 credential (RFC 5802 3: <c>SaltedPassword := Hi(password, salt, i)</c>)
    /// held in a PBKDF2-HMAC-SHA256 hash: the hash is the salted password. False for any other format.
    /// </summary>
    public static bool TryGetScramCredential(string encoded, out byte[] salt, out int iterations, out byte[] saltedPassword) =>
        TryDecode(encoded, out iterations, out salt, out saltedPassword) && saltedPassword.Length == HashBytes;

    public bool NeedsRehash(string encoded) =>
        !TryDecode(encoded, out var iterations, out _, out _) || iterations < Iterations;

    private static bool TryDecode(string encoded, out int iterations, out byte[] salt, out byte[] hash)
    {
        iterations = 0;
        salt = [];
        hash = [];
        var parts = (encoded ?? string.Empty).Split('$');
        if (parts.Length != 5 || parts[0].Length != 0 || parts[1] != Scheme || !parts[2].StartsWith("i=", StringComparison.Ordinal))
        {
            return false;
        }

        if (!int.TryParse(parts[2].AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out iterations) || iterations < 1)
        {
            return false;
        }

        try
        {
            salt = Convert.FromBase64String(parts[3]);
            hash = Convert.FromBase64String(parts[4]);
        }
        catch (FormatException)
        {
            return false;
        }

        return salt.Length > 0 && hash.Length > 0;
    }
}
