using System.Text;
using Mailroom.Protocol.Sasl;

namespace Mailroom.Protocol.Tests.Properties;

/// <summary>
/// Properties of the SASL framing the AUTH handler relies on: every function answers false for
/// bad input (the handler then replies 501) and never throws, and PLAIN round trips.
/// </summary>
public class SaslMessagesPropertyTests
{
    private const int Seed = 9_001;
    private const int Cases = 4000;

    [Fact]
    public void Base64_decoding_never_throws_on_hostile_lines()
    {
        var random = new Random(Seed);
        for (var i = 0; i < Cases; i++)
        {
            var valid = Convert.ToBase64String(SaslGen.Bytes(random, 40));
            var line = random.Next(3) switch
            {
                0 => SaslGen.Hostile(random),
                1 => SaslGen.Mutate(random, valid),
                _ => valid.Insert(random.Next(valid.Length + 1), string.Concat(Enumerable.Range(0, 4).Select(_ => " \t\r\n"[random.Next(4)]))),
            };
            var ok = Run(i, line, () => SaslMessages.TryDecodeBase64(line, out _));
            // RFC 4648 4 and 3.3: only the 65 characters of the alphabet; no whitespace inside.
            Assert.True(!ok || (line.Length % 4 == 0 && line.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=')) || line == "=", SaslGen.CaseOf(Seed, i, line));
        }
    }

    /// <summary>RFC 4954 4: the response is base64; "=" (as an initial response) or an empty line is empty.</summary>
    [Fact]
    public void Base64_of_random_bytes_decodes_to_the_same_bytes()
    {
        var random = new Random(Seed + 1);
        for (var i = 0; i < Cases; i++)
        {
            var bytes = SaslGen.Bytes(random, 300);
            var line = Convert.ToBase64String(bytes);
            Assert.True(SaslMessages.TryDecodeBase64(line, out var decoded), SaslGen.CaseOf(Seed + 1, i, line));
            Assert.Equal(bytes, decoded);
        }

        Assert.True(SaslMessages.TryDecodeBase64("=", out var empty));
        Assert.Empty(empty);
    }

    [Fact]
    public void Cancel_is_exactly_a_star()
    {
        var random = new Random(Seed + 2);
        for (var i = 0; i < Cases; i++)
        {
            var line = SaslGen.Hostile(random, 3);
            Assert.Equal(line == "*", SaslMessages.IsCancel(line));
        }
    }

    [Fact]
    public void Plain_and_login_parsing_never_throw_on_random_bytes()
    {
        var random = new Random(Seed + 3);
        for (var i = 0; i < Cases; i++)
        {
            var bytes = random.Next(3) switch
            {
                0 => SaslGen.Bytes(random, 600),
                1 => Encoding.UTF8.GetBytes(SaslGen.Hostile(random)),
                _ => Encoding.UTF8.GetBytes($"{SaslGen.Hostile(random, 4)}\0{SaslGen.Hostile(random, 4)}\0{SaslGen.Hostile(random, 4)}"),
            };
            var input = Convert.ToBase64String(bytes);
            var plain = Run(i, input, () => SaslMessages.TryParsePlain(bytes, out var user, out var password)
                ? Valid(user) && Valid(password)
                : user.Length == 0 && password.Length == 0);
            Assert.True(plain, SaslGen.CaseOf(Seed + 3, i, input));
            // A LOGIN step is one whole response, so unlike PLAIN it may hold a NUL; only the length is bounded.
            var text = Run(i, input, () => !SaslMessages.TryDecodeText(bytes, out var t) || t.Length is > 0 and <= 255);
            Assert.True(text, SaslGen.CaseOf(Seed + 3, i, input));
        }

        static bool Valid(string s) => s.Length is > 0 and <= 255 && !s.Contains('\0', StringComparison.Ordinal);
    }

    /// <summary>
    /// RFC 4616 2: <c>message = [authzid] UTF8NUL authcid UTF8NUL passwd</c>. A message built from
    /// any user and password (1 to 255 characters, any Unicode but NUL), with no authzid or the
    /// user as authzid, parses back to the same pair; any other authzid is refused.
    /// </summary>
    [Fact]
    public void Plain_round_trips_random_users_and_passwords()
    {
        var random = new Random(Seed + 4);
        for (var i = 0; i < Cases; i++)
        {
            var user = SaslGen.Text(random, 255);
            var password = SaslGen.Text(random, 255);
            var authzid = random.Next(3) switch
            {
                0 => "",
                1 => user,
                _ => user.ToUpperInvariant(),
            };
            var message = Encoding.UTF8.GetBytes($"{authzid}\0{user}\0{password}");
            var input = Convert.ToBase64String(message);
            Assert.True(SaslMessages.TryParsePlain(message, out var u, out var p), SaslGen.CaseOf(Seed + 4, i, input));
            Assert.Equal(user, u);
            Assert.Equal(password, p);

            var other = "x" + user;
            Assert.False(SaslMessages.TryParsePlain(Encoding.UTF8.GetBytes($"{other}\0{user}\0{password}"), out _, out _), SaslGen.CaseOf(Seed + 4, i, input));
        }
    }

    /// <summary>Found by <see cref="Plain_and_login_parsing_never_throw_on_random_bytes"/> (seed 9004, case 2): a refused message used to leave its password in the out parameter.</summary>
    [Fact]
    public void Plain_refused_for_another_authzid_leaves_no_password_behind()
    {
        Assert.False(SaslMessages.TryParsePlain(Encoding.UTF8.GetBytes("m=\0Z[\u00E9\0user"), out var user, out var password));
        Assert.Equal("", user);
        Assert.Equal("", password);
    }

    [Fact]
    public void Login_text_round_trips_random_text()
    {
        var random = new Random(Seed + 5);
        for (var i = 0; i < Cases; i++)
        {
            var text = SaslGen.Text(random, 255);
            Assert.True(SaslMessages.TryDecodeBase64(SaslMessages.Encode(text), out var bytes), SaslGen.CaseOf(Seed + 5, i, text));
            Assert.True(SaslMessages.TryDecodeText(bytes, out var decoded), SaslGen.CaseOf(Seed + 5, i, text));
            Assert.Equal(text, decoded);

            // One past the limit and beyond: refused, not truncated.
            var tooLong = SaslGen.Text(random, 255) + new string('x', random.Next(256, 400));
            Assert.False(SaslMessages.TryDecodeText(Encoding.UTF8.GetBytes(tooLong[..Math.Max(256, tooLong.Length - 255)]), out _), SaslGen.CaseOf(Seed + 5, i, tooLong));
        }
    }

    private static T Run<T>(int i, string input, Func<T> property)
    {
        try
        {
            return property();
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            Assert.Fail($"{SaslGen.CaseOf(Seed, i, input)} threw {ex}");
            throw;
        }
    }
}
