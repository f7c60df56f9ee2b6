using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Mailroom.Protocol.Sasl;

/// <summary>
/// The client side of SCRAM-SHA-256 (RFC 5802 section 3 and 7, RFC 7677) as pure functions: build
/// the client's two messages and check the server's signature. Channel binding is not used ("n,,").
/// One instance is one exchange.
/// </summary>
public sealed class ScramSha256Client
{
    /// <summary>RFC 5802 5.1: above this the iteration count is a denial of service, not security.</summary>
    public const int MaxIterations = 10_000_000;

    /// <summary>
    /// RFC 7677 4: "the iteration-count ... SHOULD be at least 4096". Fewer lets a fake server turn
    /// our proof into a cheap offline guess at the password.
    /// </summary>
    public const int DefaultMinimumIterations = 4096;

    private const string Gs2Header = "n,,";
    private readonly string _password;
    private readonly string _clientNonce;
    private readonly string _clientFirstBare;
    private readonly int _minimumIterations;
    private byte[]? _expectedServerSignature;

    public ScramSha256Client(string user, string password, string? clientNonce = null, int minimumIterations = DefaultMinimumIterations)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(minimumIterations, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minimumIterations, MaxIterations);
        _password = password;
        _minimumIterations = minimumIterations;
        _clientNonce = clientNonce ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));

        // RFC 5802 5.1: "The characters ',' or '=' in usernames are sent as '=2C' and '=3D' respectively."
        _clientFirstBare = $"n={user.Replace("=", "=3D", StringComparison.Ordinal).Replace(",", "=2C", StringComparison.Ordinal)},r={_clientNonce}";
    }

    /// <summary><c>client-first-message = gs2-header client-first-message-bare</c>.</summary>
    public string ClientFirst => Gs2Header + _clientFirstBare;

    /// <summary>The server's iteration count when <see cref="TryClientFinal"/> refused it for being below the minimum; no proof was computed.</summary>
    public int? TooFewIterations { get; private set; }

    /// <summary>
    /// Reads <c>server-first-message</c> and gives <c>client-final-message</c>, or false when the
    /// server's message is malformed, its nonce does not extend ours (RFC 5802 5.1), or its
    /// iteration count is out of range (below the minimum: see <see cref="TooFewIterations"/>).
    /// </summary>
    public bool TryClientFinal(string serverFirst, out string clientFinal)
    {
        ArgumentNullException.ThrowIfNull(serverFirst);
        clientFinal = string.Empty;
        var parts = serverFirst.Split(',');
        if (parts.Length < 3 || !parts[0].StartsWith("r=", StringComparison.Ordinal) || !parts[1].StartsWith("s=", StringComparison.Ordinal) ||
            !parts[2].StartsWith("i=", StringComparison.Ordinal))
        {
            return false;
        }

        var nonce = parts[0][2..];
        if (!nonce.StartsWith(_clientNonce, StringComparison.Ordinal) || nonce.Length == _clientNonce.Length ||
            !int.TryParse(parts[2].AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations is < 1 or > MaxIterations)
        {
            return false;
        }

        if (iterations < _minimumIterations)
        {
            TooFewIterations = iterations;
            return false;
        }

        if (!SaslBase64.TryDecode(parts[1][2..], out var salt))
        {
            return false;
        }

        // RFC 5802 3: SaltedPassword := Hi(password, salt, i); ClientKey := HMAC(SaltedPassword, "Client Key") ...
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(_password), salt, iterations, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var withoutProof = $"c={Convert.ToBase64String(Encoding.ASCII.GetBytes(Gs2Header))},r={nonce}";
        var authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{serverFirst},{withoutProof}");
        var clientSignature = HMACSHA256.HashData(storedKey, authMessage);
        var proof = new byte[clientKey.Length];
        for (var i = 0; i < proof.Length; i++)
        {
            proof[i] = (byte)(clientKey[i] ^ clientSignature[i]);
        }

        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        _expectedServerSignature = HMACSHA256.HashData(serverKey, authMessage);
        clientFinal = $"{withoutProof},p={Convert.ToBase64String(proof)}";
        return true;
    }

    /// <summary>
    /// RFC 5802 3: "The client then authenticates the server by computing the ServerSignature and
    /// comparing it to the value sent by the server." <c>server-final-message = "v=" base64</c>;
    /// anything else (an "e=" error too) is false.
    /// </summary>
    public bool VerifyServerFinal(string serverFinal)
    {
        ArgumentNullException.ThrowIfNull(serverFinal);
        if (_expectedServerSignature is null || !serverFinal.StartsWith("v=", StringComparison.Ordinal))
        {
            return false;
        }

        return SaslBase64.TryDecode(serverFinal[2..], out var signature) && CryptographicOperations.FixedTimeEquals(signature, _expectedServerSignature);
    }
}
