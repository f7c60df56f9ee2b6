using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Mailroom.Protocol.Sasl;

namespace Mailroom.Fuzz.Targets;

/// <summary>
/// SASL payloads (RFC 4954, 4616, 5802): base64, PLAIN, LOGIN text, SCRAM client-first and
/// client-final on the server, and the server's messages on the client. The control byte picks
/// which. Every one answers false on bad input (and leaves no secret behind), never throws.
/// </summary>
internal static class SaslTarget
{
    private const string Password = "pencil";
    private const string ClientNonce = "fyko+d2lbbFgONRv9qkxdawL";
    private static readonly byte[] Salt = "QSXCR+Q6sek8bf92"u8.ToArray();

    public static void Run(byte[] input)
    {
        var fuzz = new FuzzInput(input);
        var data = fuzz.DataArray;
        var text = Encoding.UTF8.GetString(data);
        switch (fuzz.Control % 6)
        {
            case 0:
                Base64(Encoding.Latin1.GetString(data));
                break;
            case 1:
                Plain(data);
                break;
            case 2:
                var ok = SaslMessages.TryDecodeText(data, out var decoded);
                Invariant.Check(ok ? decoded.Length is > 0 and <= 255 : decoded.Length == 0, "LOGIN text out of bounds");
                break;
            case 3:
                ClientFirstOnServer(text);
                break;
            case 4:
                ServerMessagesOnClient(text);
                break;
            default:
                ClientFinalOnServer(text);
                break;
        }
    }

    private static void Base64(string line)
    {
        _ = SaslMessages.IsCancel(line);
        if (!SaslMessages.TryDecodeBase64(line, out var bytes))
        {
            Invariant.Check(bytes.Length == 0, "refused base64 left bytes behind");
            return;
        }

        Invariant.Check(SaslMessages.TryDecodeBase64(Convert.ToBase64String(bytes), out var again) && again.AsSpan().SequenceEqual(bytes), "decoded base64 does not encode and decode back");
    }

    private static void Plain(byte[] message)
    {
        if (!SaslMessages.TryParsePlain(message, out var user, out var password))
        {
            Invariant.Check(user.Length == 0 && password.Length == 0, "a refused PLAIN message left a user or password behind");
            return;
        }

        Invariant.Check(user.Length is > 0 and <= 255 && password.Length is > 0 and <= 255, "PLAIN user or password out of bounds");
        Invariant.Check(!user.Contains('\0', StringComparison.Ordinal) && !password.Contains('\0', StringComparison.Ordinal), "a NUL inside a PLAIN field");
        var again = Encoding.UTF8.GetBytes("\0" + user + "\0" + password);
        Invariant.Check(SaslMessages.TryParsePlain(again, out var user2, out var password2) && user2 == user && password2 == password, "PLAIN written back does not parse the same");
    }

    /// <summary>
    /// The client-first message as the server parses it; when it parses, a real exchange with a
    /// client of that user and nonce must succeed both ways (one iteration keeps it fast).
    /// </summary>
    private static void ClientFirstOnServer(string message)
    {
        if (!ScramSha256.TryParseClientFirst(message, out var first))
        {
            Invariant.Check(first is null, "a refused client-first left a result behind");
            return;
        }

        Invariant.Check(first is not null && first.Gs2Header + first.Bare == message, "client-first is not gs2-header + bare");
        Invariant.Check(first!.User.Length is > 0 and <= 255 && first.ClientNonce.Length > 0, "SCRAM user or nonce out of bounds");

        var client = new ScramSha256Client(first.User, Password, first.ClientNonce, minimumIterations: 1);
        Invariant.Check(ScramSha256.TryParseClientFirst(client.ClientFirst, out var fromClient) && fromClient!.User == first.User && fromClient.ClientNonce == first.ClientNonce, $"the client's own first message for user '{first.User}' does not parse back");

        var serverFirst = $"r={first.ClientNonce}server-nonce,s={Convert.ToBase64String(Salt)},i=1";
        Invariant.Check(client.TryClientFinal(serverFirst, out var clientFinal), "the client refused a well-formed server-first");
        var (storedKey, serverKey) = Keys(1);
        Invariant.Check(ScramSha256.TryVerifyClientFinal(fromClient!, serverFirst, clientFinal, storedKey, serverKey, out var serverFinal), "the server refused the client's correct proof");
        Invariant.Check(client.VerifyServerFinal(serverFinal), "the client refused the server's correct signature");
        Invariant.Check(!client.VerifyServerFinal("v=" + (serverFinal[2] == 'A' ? 'B' : 'A') + serverFinal[3..]), "the client took a wrong signature");
    }

    /// <summary>"server-first LF server-final" on the client. Iteration counts above 4096 are skipped: PBKDF2's cost is by design, not a hang.</summary>
    private static void ServerMessagesOnClient(string text)
    {
        var lf = text.IndexOf('\n', StringComparison.Ordinal);
        var serverFirst = lf < 0 ? text : text[..lf];
        var serverFinal = lf < 0 ? "" : text[(lf + 1)..];
        var parts = serverFirst.Split(',');
        if (parts.Length >= 3 && parts[2].StartsWith("i=", StringComparison.Ordinal) &&
            int.TryParse(parts[2].AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) && iterations > 4096)
        {
            return;
        }

        var client = new ScramSha256Client("user", Password, ClientNonce, minimumIterations: 1);
        Invariant.Check(!client.VerifyServerFinal(serverFinal), "the client took a server-final before its own final message");
        if (!client.TryClientFinal(serverFirst, out var clientFinal))
        {
            Invariant.Check(clientFinal.Length == 0, "a refused server-first left a client-final behind");
            return;
        }

        Invariant.Check(clientFinal.StartsWith("c=biws,r=" + ClientNonce, StringComparison.Ordinal) && clientFinal.Contains(",p=", StringComparison.Ordinal), $"client-final '{clientFinal}' is malformed");
        _ = client.VerifyServerFinal(serverFinal);
    }

    /// <summary>A client-final from afl against a fixed exchange: a wrong proof is false with no server-final.</summary>
    private static void ClientFinalOnServer(string clientFinal)
    {
        var first = new ScramClientFirst("n,,", "n=user,r=" + ClientNonce, "user", ClientNonce);
        var serverFirst = $"r={ClientNonce}server-nonce,s={Convert.ToBase64String(Salt)},i=1";
        var (storedKey, serverKey) = Keys(1);
        if (!ScramSha256.TryVerifyClientFinal(first, serverFirst, clientFinal, storedKey, serverKey, out var serverFinal))
        {
            Invariant.Check(serverFinal.Length == 0, "a refused client-final left a server-final behind");
        }
    }

    private static (byte[] StoredKey, byte[] ServerKey) Keys(int iterations)
    {
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(Password), Salt, iterations, HashAlgorithmName.SHA256, 32);
        return (SHA256.HashData(HMACSHA256.HashData(salted, "Client Key"u8)), HMACSHA256.HashData(salted, "Server Key"u8));
    }
}
