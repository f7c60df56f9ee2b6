using System.Security.Cryptography;
using System.Text;
using Mailroom.Protocol.Sasl;

namespace Mailroom.Protocol.Tests.Properties;

/// <summary>
/// Properties of SCRAM-SHA-256 (RFC 5802, RFC 7677) on both sides: hostile messages get false,
/// never an exception (the AUTH handler and the client only expect false), and a full exchange
/// between <see cref="ScramSha256Client"/> and <see cref="ScramSha256"/> works for exactly the right password.
/// </summary>
public class SaslScramPropertyTests
{
    private const int Seed = 5_802;
    private const int Cases = 3000;

    /// <summary>
    /// RFC 5802 7: <c>client-first-message = gs2-header client-first-message-bare</c>. Whatever the
    /// input, the parser answers false or gives a user and nonce the grammar allows: a saslname of
    /// 1 to 255 characters and a nonce of printable ASCII without ',' (<c>printable = %x21-2B / %x2D-7E</c>).
    /// </summary>
    [Fact]
    public void Client_first_parsing_never_throws_and_gives_only_grammatical_parts()
    {
        var random = new Random(Seed);
        for (var i = 0; i < Cases; i++)
        {
            var valid = new ScramSha256Client(SaslGen.Text(random, 20), "pw", SaslGen.Hostile(random, 3).Replace(",", "", StringComparison.Ordinal)).ClientFirst;
            var message = random.Next(3) switch
            {
                0 => SaslGen.Hostile(random),
                1 => (random.Next(2) == 0 ? "n,," : "y,a=" + SaslGen.Hostile(random, 2) + ",") + SaslGen.Hostile(random),
                _ => SaslGen.Mutate(random, valid),
            };
            var what = SaslGen.CaseOf(Seed, i, message);
            ScramClientFirst? first = null;
            var ok = Run(what, () => ScramSha256.TryParseClientFirst(message, out first));
            if (ok)
            {
                Assert.NotNull(first);
                Assert.Equal(message, first.Gs2Header + first.Bare);
                Assert.InRange(first.User.Length, 1, 255);
                Assert.True(first.ClientNonce.Length > 0 && first.ClientNonce.All(c => c is >= '!' and <= '~' and not ','), what);
                Assert.DoesNotContain("p=", first.Gs2Header[..1], StringComparison.Ordinal);
            }
        }
    }

    /// <summary>RFC 5802 5.1: "The characters ',' or '=' in usernames are sent as '=2C' and '=3D' respectively."</summary>
    [Fact]
    public void User_names_with_commas_and_equals_signs_round_trip()
    {
        var random = new Random(Seed + 1);
        for (var i = 0; i < Cases; i++)
        {
            var user = SaslGen.Text(random, 255);
            var client = new ScramSha256Client(user, "pw");
            var what = SaslGen.CaseOf(Seed + 1, i, client.ClientFirst);
            Assert.True(ScramSha256.TryParseClientFirst(client.ClientFirst, out var first), what);
            Assert.Equal(user, first!.User);
        }
    }

    /// <summary>RFC 5802 7: the client's final message must echo the GS2 header and the whole nonce, and its proof must be right.</summary>
    [Fact]
    public void Client_final_checking_never_throws_and_refuses_every_mutation()
    {
        var random = new Random(Seed + 2);
        var (salt, storedKey, serverKey) = Credential("pencil", 2);
        for (var i = 0; i < Cases; i++)
        {
            var client = new ScramSha256Client("user", "pencil", minimumIterations: 1);
            Assert.True(ScramSha256.TryParseClientFirst(client.ClientFirst, out var first));
            var serverFirst = ScramSha256.ServerFirst(first!, salt, 2);
            Assert.True(client.TryClientFinal(serverFirst, out var valid));
            var message = random.Next(4) == 0 ? SaslGen.Hostile(random) : SaslGen.Mutate(random, valid);
            var what = SaslGen.CaseOf(Seed + 2, i, message);
            var ok = Run(what, () => ScramSha256.TryVerifyClientFinal(first!, serverFirst, message, storedKey, serverKey, out _));

            // A mutation may leave the message as it was (a repeated trailing "p=..." part is not,
            // but cutting and re-adding can be); only a changed message must fail.
            Assert.True(!ok || message == valid, what);
        }
    }

    /// <summary>
    /// Found by <see cref="Client_final_checking_never_throws_and_refuses_every_mutation"/> (seed
    /// 5804, case 65): a space inside the proof was skipped by Convert.FromBase64String and the
    /// message accepted, though RFC 5802 7 says <c>proof = "p=" base64</c> and base64 has no spaces.
    /// </summary>
    [Fact]
    public void Proof_with_whitespace_inside_is_refused()
    {
        var (salt, storedKey, serverKey) = Credential("pencil", 2);
        var client = new ScramSha256Client("user", "pencil", minimumIterations: 1);
        Assert.True(ScramSha256.TryParseClientFirst(client.ClientFirst, out var first));
        var serverFirst = ScramSha256.ServerFirst(first!, salt, 2);
        Assert.True(client.TryClientFinal(serverFirst, out var clientFinal));
        var spaced = clientFinal.Insert(clientFinal.Length - 10, " ");
        Assert.False(ScramSha256.TryVerifyClientFinal(first!, serverFirst, spaced, storedKey, serverKey, out _));
        Assert.False(SaslMessages.TryDecodeBase64("QUJD REVG   ", out _));
        Assert.True(ScramSha256.TryVerifyClientFinal(first!, serverFirst, clientFinal, storedKey, serverKey, out var serverFinal));
        Assert.False(client.VerifyServerFinal(serverFinal.Insert(5, "\r\n")));
        Assert.True(client.VerifyServerFinal(serverFinal));
    }

    /// <summary>
    /// The client reads what a server, possibly a fake one, sends: a hostile server-first (huge or
    /// non-numeric iteration counts, a nonce that does not extend ours, bad base64 salt) or
    /// server-final gets false, never an exception (the client maps false to its typed error).
    /// </summary>
    [Fact]
    public void Client_never_throws_on_hostile_server_messages()
    {
        var random = new Random(Seed + 3);
        string[] iterations = ["0", "-1", "1", "2", "4096", "10000001", "2147483648", "99999999999999999999", "1e3", " 2", "+2", "x", ""];
        for (var i = 0; i < Cases; i++)
        {
            var client = new ScramSha256Client("user", "pencil", "abc", minimumIterations: 1);
            var serverFirst = random.Next(3) switch
            {
                0 => SaslGen.Hostile(random),
                1 => $"r=abc{SaslGen.Hostile(random, 3)},s={SaslGen.Hostile(random, 3)},i={iterations[random.Next(iterations.Length)]}",
                _ => SaslGen.Mutate(random, $"r=abcdef,s=QSXCR+Q6sek8bf92,i={random.Next(1, 4)}"),
            };
            var what = SaslGen.CaseOf(Seed + 3, i, serverFirst);
            if (serverFirst.Contains("i=4096", StringComparison.Ordinal) || serverFirst.Contains("i=10000", StringComparison.Ordinal))
            {
                continue; // valid but slow: the iteration count is the client's real work
            }

            var ok = Run(what, () => client.TryClientFinal(serverFirst, out _));
            Assert.True(!ok || serverFirst.StartsWith("r=abc", StringComparison.Ordinal), what);
            var serverFinal = random.Next(2) == 0 ? SaslGen.Hostile(random) : "v=" + SaslGen.Hostile(random, 4);
            Assert.False(Run(what, () => client.VerifyServerFinal(serverFinal)), SaslGen.CaseOf(Seed + 3, i, serverFinal));
        }
    }

    /// <summary>
    /// RFC 5802 3 and 5: with the right password both sides agree (the server accepts the proof,
    /// the client accepts the server's signature); with any other password the server refuses.
    /// Passwords are any Unicode text; both sides take its UTF-8 bytes (SASLprep is not applied).
    /// </summary>
    [Fact]
    public void Full_exchange_succeeds_for_the_password_and_fails_for_any_other()
    {
        var random = new Random(Seed + 4);
        for (var i = 0; i < Cases; i++)
        {
            var user = SaslGen.Text(random, 30);
            var password = SaslGen.Text(random, 40);
            var wrong = random.Next(2) == 0 ? password + SaslGen.Text(random, 2) : SaslGen.Text(random, 40);
            var iterations = random.Next(1, 4);
            var (salt, storedKey, serverKey) = Credential(password, iterations, SaslGen.Bytes(random, 32));
            var what = SaslGen.CaseOf(Seed + 4, i, password);

            Assert.Equal((true, true), Exchange(user, password, salt, iterations, storedKey, serverKey));
            if (wrong != password)
            {
                // The server refuses; and the client, had a fake server said yes, could not check its signature.
                Assert.Equal((false, false), Exchange(user, wrong, salt, iterations, storedKey, serverKey));
            }
        }
    }

    private static (bool ServerAccepts, bool ClientAccepts) Exchange(string user, string password, byte[] salt, int iterations, byte[] storedKey, byte[] serverKey)
    {
        var client = new ScramSha256Client(user, password, minimumIterations: 1);
        if (!ScramSha256.TryParseClientFirst(client.ClientFirst, out var first))
        {
            return (false, false);
        }

        var serverFirst = ScramSha256.ServerFirst(first!, salt, iterations);
        if (!client.TryClientFinal(serverFirst, out var clientFinal))
        {
            return (false, false);
        }

        var accepted = ScramSha256.TryVerifyClientFinal(first!, serverFirst, clientFinal, storedKey, serverKey, out var serverFinal);
        var signature = accepted ? serverFinal : "v=" + Convert.ToBase64String(HMACSHA256.HashData(serverKey, "a guess"u8));
        return (accepted, client.VerifyServerFinal(signature));
    }

    /// <summary>RFC 5802 3: SaltedPassword := Hi(password, salt, i); StoredKey := H(HMAC(SaltedPassword, "Client Key")); ServerKey := HMAC(SaltedPassword, "Server Key").</summary>
    private static (byte[] Salt, byte[] StoredKey, byte[] ServerKey) Credential(string password, int iterations, byte[]? salt = null)
    {
        salt ??= Encoding.ASCII.GetBytes("fixed salt");
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        return (salt, SHA256.HashData(HMACSHA256.HashData(salted, "Client Key"u8)), HMACSHA256.HashData(salted, "Server Key"u8));
    }

    private static T Run<T>(string what, Func<T> property)
    {
        try
        {
            return property();
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            Assert.Fail($"{what} threw {ex}");
            throw;
        }
    }
}
