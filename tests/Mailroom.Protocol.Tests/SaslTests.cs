using System.Security.Cryptography;
using System.Text;
using Mailroom.Protocol.Sasl;

namespace Mailroom.Protocol.Tests;

public class SaslTests
{
    /// <summary>RFC 7677 section 3: user "user", password "pencil", the published messages.</summary>
    [Fact]
    public void Scram_sha_256_matches_the_rfc_7677_example()
    {
        Assert.True(ScramSha256.TryParseClientFirst("n,,n=user,r=rOprNGfwEbeRWgbNEkqO", out var first));
        Assert.Equal("user", first!.User);
        const string serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        var salted = Rfc2898DeriveBytes.Pbkdf2("pencil"u8, Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096, HashAlgorithmName.SHA256, 32);
        const string clientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        var (storedKey, serverKey) = Keys(salted);
        Assert.True(ScramSha256.TryVerifyClientFinal(first, serverFirst, clientFinal, storedKey, serverKey, out var serverFinal));
        Assert.Equal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", serverFinal);

        var wrong = Rfc2898DeriveBytes.Pbkdf2("pencil!"u8, Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096, HashAlgorithmName.SHA256, 32);
        var (wrongStored, wrongServer) = Keys(wrong);
        Assert.False(ScramSha256.TryVerifyClientFinal(first, serverFirst, clientFinal, wrongStored, wrongServer, out _));
        Assert.False(ScramSha256.TryVerifyClientFinal(first, serverFirst, clientFinal.Replace("r=rOpr", "r=xOpr", StringComparison.Ordinal), storedKey, serverKey, out _));
        Assert.False(ScramSha256.TryVerifyClientFinal(first, serverFirst, clientFinal.Replace("c=biws", "c=eSws", StringComparison.Ordinal), storedKey, serverKey, out _));
    }

    private static (byte[] StoredKey, byte[] ServerKey) Keys(byte[] salted) =>
        (SHA256.HashData(HMACSHA256.HashData(salted, "Client Key"u8)), HMACSHA256.HashData(salted, "Server Key"u8));

    [Fact]
    public void Scram_user_names_decode_their_escapes()
    {
        Assert.True(ScramSha256.TryParseClientFirst("n,,n=a=2Cb=3Dc,r=x", out var first));
        Assert.Equal("a,b=c", first!.User);
        Assert.False(ScramSha256.TryParseClientFirst("n,,n=a=2Xb,r=x", out _));
        Assert.False(ScramSha256.TryParseClientFirst("p=tls-unique,,n=a,r=x", out _));
    }

    [Theory]
    [InlineData("n,,n=alice\0@example.test,r=x")]
    [InlineData("n,,n=\0,r=x")]
    [InlineData("n,a=alice\0,n=alice,r=x")]
    public void A_nul_in_a_scram_user_name_is_refused(string clientFirst)
    {
        // RFC 5802 7: value-safe-char is "UTF8-char except NUL, "=", and ","".
        Assert.False(ScramSha256.TryParseClientFirst(clientFirst, out _));
    }

    [Theory]
    [InlineData("\0alice\0secret", true, "alice", "secret")]
    [InlineData("alice\0alice\0secret", true, "alice", "secret")]
    [InlineData("bob\0alice\0secret", false, "", "")]
    [InlineData("alice\0secret", false, "", "")]
    [InlineData("\0alice\0secret\0more", false, "", "")]
    [InlineData("\0\0secret", false, "", "")]
    [InlineData("\0alice\0", false, "", "")]
    public void Plain_messages(string message, bool ok, string user, string password)
    {
        Assert.Equal(ok, SaslMessages.TryParsePlain(Encoding.UTF8.GetBytes(message), out var u, out var p));
        if (ok)
        {
            Assert.Equal(user, u);
            Assert.Equal(password, p);
        }
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("=", true)]
    [InlineData("YWJj", true)]
    [InlineData("YWJ", false)]
    [InlineData("!!!!", false)]
    public void Base64_responses(string line, bool ok)
    {
        Assert.Equal(ok, SaslMessages.TryDecodeBase64(line, out _));
    }
}
