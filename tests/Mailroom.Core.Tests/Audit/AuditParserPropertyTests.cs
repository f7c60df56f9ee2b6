using System.Text;
using Mailroom.Core.Audit;

namespace Mailroom.Core.Tests.Audit;

/// <summary>
/// Properties of the audit line parser: whatever a line holds (random bytes, random JSON, a valid
/// entry damaged), <see cref="AuditEntryParser.TryParse"/> and <see cref="AuditEntryParser.TryParseEvent"/>
/// answer false with a problem for the admin, never an exception: the reader and the verifier
/// report a damaged line, they must not stop at it.
/// </summary>
public sealed class AuditParserPropertyTests : AuditTestBase
{
    private const int Seed = 2_026;
    private const int Cases = 4000;

    private static readonly string[] JsonPieces =
    [
        "{", "}", "[", "]", ",", ":", "\"seq\"", "\"ts\"", "\"node\"", "\"kind\"", "\"outcome\"", "\"rcpt\"", "\"size\"", "\"prev\"", "\"mac\"",
        "\"cipher\"", "\"key\"", "\"data\"", "1", "-1", "0", "1e999", "99999999999999999999999", "1.5", "true", "null", "\"ok\"",
        "\"2026-11-28T18:30:00.000Z\"", "\"\\ud800\"", "\"\\udc00x\"", "\"\\u0000\"", "\"a\\\"b\"", "\"\\x\"", " ", "\"", "\\",
    ];

    [Fact]
    public void Random_bytes_and_random_json_never_throw()
    {
        var random = new Random(Seed);
        for (var i = 0; i < Cases; i++)
        {
            var body = random.Next(2) == 0 ? RandomBytes(random, 200) : Encoding.UTF8.GetBytes(RandomJson(random));

            // Half of them end the way an entry ends, so they get past the cheap check to the JSON parser.
            var line = random.Next(2) == 0 ? body : [.. body, .. MacTail(random)];
            Check(i, line);
        }
    }

    [Fact]
    public async Task Damaged_valid_lines_never_throw()
    {
        await WriteRunAsync(4);
        var lines = File.ReadAllLines(LogFiles()[0]).Select(Encoding.UTF8.GetBytes).ToArray();
        var random = new Random(Seed + 1);
        for (var i = 0; i < Cases; i++)
        {
            var line = Mutate(random, lines[random.Next(lines.Length)]);
            Check(i, line);
        }
    }

    private static void Check(int i, byte[] line)
    {
        var what = $"seed {Seed}, case {i}, line {Convert.ToBase64String(line.Length > 2000 ? line[..2000] : line)}";
        try
        {
            if (!AuditEntryParser.TryParse(line, out var entry, out var problem))
            {
                Assert.True(entry is null && problem.Length > 0, what);
            }

            if (!AuditEntryParser.TryParseEvent(line, Start, out var decoded, out problem))
            {
                Assert.True(decoded is null && problem.Length > 0, what);
            }
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            Assert.Fail($"{what} threw {ex}");
        }
    }

    private static byte[] RandomBytes(Random random, int max)
    {
        var bytes = new byte[random.Next(max)];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string RandomJson(Random random)
    {
        var sb = new StringBuilder();
        var count = random.Next(40);
        for (var i = 0; i < count; i++)
        {
            sb.Append(JsonPieces[random.Next(JsonPieces.Length)]);
        }

        return sb.ToString();
    }

    private static byte[] MacTail(Random random) =>
        Encoding.ASCII.GetBytes(",\"mac\":\"" + Convert.ToBase64String(RandomBytes(random, 1).Length == 0 ? new byte[32] : new byte[32]) + "\"}");

    /// <summary>A byte flipped or cut, keys repeated, types changed, huge numbers, deep nesting, long text, invalid UTF-8; the mac tail mostly kept.</summary>
    private static byte[] Mutate(Random random, byte[] valid)
    {
        var tail = valid.AsSpan().LastIndexOf(",\"mac\":\""u8);
        var body = Encoding.Latin1.GetString(valid, 0, tail);
        var end = valid[tail..];
        var at = random.Next(1, body.Length);
        body = random.Next(11) switch
        {
            0 => body[..at],
            1 => body.Insert(1, "\"kind\":\"x\",\"seq\":2,"),
            2 => body.Replace("\"seq\":", random.Next(2) == 0 ? "\"seq\":\"1\",\"x\":" : "\"seq\":1e999,\"x\":", StringComparison.Ordinal),
            3 => body.Insert(1, "\"size\":99999999999999999999999,"),
            4 => body.Insert(1, "\"x\":" + new string('[', 5000) + new string(']', 5000) + ","),
            5 => body.Insert(1, "\"detail\":\"" + new string('a', random.Next(100_000)) + "\","),
            6 => body.Insert(1, "\"kind\":\"\\ud800\","),
            7 => body.Insert(1, "\"rcpt\":[\"\\udc00\", 1],"),
            8 => body.Insert(1, "\"\\ud800\":1,"),
            9 => body.Insert(at, JsonPieces[random.Next(JsonPieces.Length)]),
            _ => body,
        };
        var bytes = Encoding.Latin1.GetBytes(body);
        if (random.Next(3) == 0)
        {
            bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8)); // a bit flipped, often invalid UTF-8
        }

        if (random.Next(5) == 0)
        {
            bytes = [.. bytes[..random.Next(bytes.Length)], 0xC3, 0x28, 0xFF, .. bytes[random.Next(bytes.Length)..]];
        }

        return random.Next(6) == 0 ? [.. bytes, .. end[..random.Next(end.Length)]] : [.. bytes, .. end];
    }
}
