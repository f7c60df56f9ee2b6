using System.Security.Cryptography;
using System.Text;

namespace Mailroom.Protocol.Sasl;

/// <summary>The client's first SCRAM message, parsed (RFC 5802 section 7).</summary>
/// <param name="Gs2Header">The GS2 header, echoed back base64-encoded in the client's final message.</param>
/// <param name="Bare"><c>client-first-message-bare</c>, part of the AuthMessage.</param>
/// <param name="User">The user name, with "=2C" and "=3D" decoded.</param>
/// <param name="ClientNonce">The client's nonce.</param>
public sealed record ScramClientFirst(string Gs2Header, string Bare, string User, string ClientNonce);

/// <summary>
/// The server side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as pure functions: parse the client's
/// messages, build the server's, check the proof against the stored StoredKey and ServerKey.
/// Channel binding is not offered, so a client that requires it ("p=") is refused.
/// </summary>
public static class ScramSha256
{
    public const string Name = "SCRAM-SHA-256";

    /// <summary><c>client-first-message = gs2-header client-first-message-bare</c>.</summary>
    public static bool TryParseClientFirst(string message, out ScramClientFirst? first)
    {
        first = null;
        ArgumentNullException.ThrowIfNull(message);

        // gs2-header = gs2-cbind-flag "," [ authzid ] ","
        var comma = message.IndexOf(',', StringComparison.Ordinal);
        if (comma != 1 || message[0] is not ('n' or 'y'))
        {
            return false;
        }

        var second = message.IndexOf(',', comma + 1);
        if (second < 0)
        {
            return false;
        }

        var authzid = message[(comma + 1)..second];
        var bare = message[(second + 1)..];
        var parts = bare.Split(',');
        if (parts.Length < 2 || !parts[0].StartsWith("n=", StringComparison.Ordinal) || !parts[1].StartsWith("r=", StringComparison.Ordinal) ||
            !TryDecodeSaslName(parts[0][2..], out var user))
        {
            return false;
        }

        var nonce = parts[1][2..];
        if (nonce.Length == 0 || nonce.Any(c => c is < '!' or > '~' || c == ','))
        {
            return false;
        }

        // An authorization identity other than the user would be acting as someone else.
        if (authzid.Length > 0 && (!authzid.StartsWith("a=", StringComparison.Ordinal) ||
            !TryDecodeSaslName(authzid[2..], out var asUser) || !string.Equals(asUser, user, StringComparison.OrdinalIgnoreCase)))
        {
            return false;
        }

        first = new ScramClientFirst(message[..(second + 1)], bare, user, nonce);
        return true;
    }

    /// <summary><c>server-first-message = nonce "," salt "," iteration-count</c>, with a fresh server nonce.</summary>
    public static string ServerFirst(ScramClientFirst first, byte[] salt, int iterations)
    {
        ArgumentNullException.ThrowIfNull(first);
        var serverNonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        return $"r={first.ClientNonce}{serverNonce},s={Convert.ToBase64String(salt)},i={iterations}";
    }

    /// <summary>
    /// Checks <c>client-final-message = channel-binding "," nonce ["," extensions] "," proof</c>
    /// against the stored credential (RFC 5802 3: StoredKey and ServerKey; the server never needs
    /// the salted password); on success gives <c>server-final-message = "v=" base64(ServerSignature)</c>.
    /// Comparisons run in constant time.
    /// </summary>
    public static bool TryVerifyClientFinal(ScramClientFirst first, string serverFirst, string clientFinal, byte[] storedKey, byte[] serverKey, out string serverFinal)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(serverFirst);
        ArgumentNullException.ThrowIfNull(clientFinal);
        serverFinal = string.Empty;
        var proofAt = clientFinal.LastIndexOf(",p=", StringComparison.Ordinal);
        if (proofAt < 0)
        {
            return false;
        }

        var withoutProof = clientFinal[..proofAt];
        var parts = withoutProof.Split(',');
        var expectedBinding = "c=" + Convert.ToBase64String(Encoding.UTF8.GetBytes(first.Gs2Header));
        var expectedNonce = "r=" + serverFirst.Split(',')[0][2..];
        if (parts.Length < 2 || parts[0] != expectedBinding || parts[1] != expectedNonce)
        {
            return false;
        }

        if (!SaslBase64.TryDecode(clientFinal[(proofAt + 3)..], out var proof))
        {
            return false;
        }

        var authMessage = Encoding.UTF8.GetBytes($"{first.Bare},{serverFirst},{withoutProof}");
        var clientSignature = HMACSHA256.HashData(storedKey, authMessage);
        if (proof.Length != clientSignature.Length)
        {
            return false;
        }

        // ClientKey = ClientProof XOR ClientSignature; it must hash to StoredKey.
        var recovered = new byte[proof.Length];
        for (var i = 0; i < proof.Length; i++)
        {
            recovered[i] = (byte)(proof[i] ^ clientSignature[i]);
        }

        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(recovered), storedKey))
        {
            return false;
        }

        serverFinal = "v=" + Convert.ToBase64String(HMACSHA256.HashData(serverKey, authMessage));
        return true;
    }

    /// <summary>
    /// <c>saslname = 1*(value-safe-char / "=2C" / "=3D")</c>, where RFC 5802 7 has
    /// <c>value-safe-char</c> as "UTF8-char except NUL, "=", and ","": a NUL would end the
    /// name early in any C code down the line (a log, a database driver) and is refused.
    /// </summary>
    private static bool TryDecodeSaslName(string text, out string name)
    {
        name = string.Empty;
        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] is ',' or '\0')
            {
                return false;
            }

            if (text[i] != '=')
            {
                sb.Append(text[i]);
                continue;
            }

            if (string.CompareOrdinal(text, i, "=2C", 0, 3) == 0)
            {
                sb.Append(',');
            }
            else if (string.CompareOrdinal(text, i, "=3D", 0, 3) == 0)
            {
                sb.Append('=');
            }
            else
            {
                return false;
            }

            i += 2;
        }

        name = sb.ToString();
        return name.Length is > 0 and <= 255;
    }
}
