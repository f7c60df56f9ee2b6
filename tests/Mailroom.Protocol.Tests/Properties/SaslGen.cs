using System.Text;

namespace Mailroom.Protocol.Tests.Properties;

/// <summary>
/// Random and hostile inputs for the SASL property tests, from a seeded <see cref="Random"/> so a
/// failing case can be replayed: each property reports its seed and case number.
/// </summary>
internal static class SaslGen
{
    // Pieces a hostile SCRAM or PLAIN message is made of: the attribute names, the separators,
    // the saslname escapes (RFC 5802 5.1: "=2C" and "=3D") and their broken forms, NUL, non-ASCII.
    private static readonly string[] Tokens =
    [
        ",", "=", "n", "y", "p", "p=tls-unique", "a=", "n=", "r=", "s=", "i=", "c=", "p=", "v=", "e=", "m=",
        "=2C", "=3D", "=2c", "=2", "=3", "=XY", "\0", "\r\n", " ", "*", "user", "abc", "biws", "==",
        "4096", "0", "-1", "99999999999999999999", "2147483648", "1e3", "0x10", "é", "日本", "😀", "\uD800", "\uDC00",
        "\u00A0", "\uFFFD", "+", "/",
    ];

    /// <summary>Characters for names and passwords: ASCII, the SCRAM separators, and non-ASCII (no lone surrogates: they are not text).</summary>
    private static readonly string[] TextPieces = ["a", "Z", "0", ",", "=", " ", "~", "!", "é", "ß", "Ω", "日", "😀", "\u0301", "\t", "\u00A0"];

    public static byte[] Bytes(Random random, int maxLength)
    {
        var bytes = new byte[random.Next(maxLength + 1)];
        random.NextBytes(bytes);

        // Often a few NULs, so that PLAIN's separators show up more than 1 in 256 times.
        for (var i = 0; i < bytes.Length && random.Next(4) == 0; i++)
        {
            bytes[random.Next(bytes.Length)] = 0;
        }

        return bytes;
    }

    /// <summary>A string of hostile tokens and random characters.</summary>
    public static string Hostile(Random random, int maxTokens = 24)
    {
        var sb = new StringBuilder();
        var count = random.Next(maxTokens + 1);
        for (var i = 0; i < count; i++)
        {
            _ = random.Next(3) switch
            {
                0 => sb.Append(Tokens[random.Next(Tokens.Length)]),
                1 => sb.Append((char)random.Next(0x20, 0x7F)),
                _ => sb.Append((char)random.Next(0, 0x10000)),
            };
        }

        return sb.ToString();
    }

    /// <summary>Text of 1 to <paramref name="maxLength"/> UTF-16 code units (never a lone surrogate), with commas, '=' and non-ASCII.</summary>
    public static string Text(Random random, int maxLength)
    {
        var sb = new StringBuilder();
        var target = random.Next(1, maxLength + 1);
        while (sb.Length < target)
        {
            var piece = TextPieces[random.Next(TextPieces.Length)];
            if (sb.Length + piece.Length > maxLength)
            {
                break;
            }

            sb.Append(piece);
        }

        return sb.Length == 0 ? "x" : sb.ToString();
    }

    /// <summary>Makes a valid message hostile: cut, extended, a character changed, a part repeated or dropped.</summary>
    public static string Mutate(Random random, string valid)
    {
        if (valid.Length == 0)
        {
            return Hostile(random);
        }

        var at = random.Next(valid.Length);
        var parts = valid.Split(',');
        return random.Next(8) switch
        {
            0 => valid[..at],
            1 => valid + Hostile(random),
            2 => valid[..at] + Hostile(random, 3) + valid[(at + 1)..],
            3 => valid.Insert(at, Tokens[random.Next(Tokens.Length)]),
            4 => string.Join(',', parts.Where((_, i) => i != random.Next(parts.Length))),
            5 => valid + "," + parts[random.Next(parts.Length)],
            6 => valid + new string('x', random.Next(1, 100_000)),
            _ => valid.Remove(at, 1),
        };
    }

    public static string CaseOf(int seed, int i, string input) =>
        $"seed {seed}, case {i}, input \"{Escape(input)}\"";

    private static string Escape(string s)
    {
        var sb = new StringBuilder();
        foreach (var c in s.Length > 300 ? s[..300] + "…" : s)
        {
            sb.Append(c is < ' ' or > '~' ? $"\\u{(int)c:X4}" : c.ToString());
        }

        return sb.ToString();
    }
}
