namespace Mailroom.Protocol.Tests.Properties;

/// <summary>
/// A seeded property runner: every case gets its own seed, drawn from the test's fixed seed, so a
/// failure names the one case to replay. Set MAILROOM_PROPERTY_SEED to explore with another seed.
/// </summary>
internal static class Property
{
    public static void ForAll(int seed, int cases, Action<Random> check)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("MAILROOM_PROPERTY_SEED"), out var overridden))
        {
            seed = overridden;
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"Property seed {seed}, {cases} cases");
        var master = new Random(seed);
        for (var i = 0; i < cases; i++)
        {
            var caseSeed = master.Next();
            try
            {
                check(new Random(caseSeed));
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"Property failed at case {i} (seed {seed}; replay with new Random({caseSeed})): {ex.Message}", ex);
            }
        }
    }

    public static T Pick<T>(this Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    /// <summary>Mixed case, as RFC 5321 2.4 lets a client send any verb or keyword.</summary>
    public static string RandomCase(this Random random, string text) =>
        string.Concat(text.Select(c => random.Next(2) == 0 ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)));

    public static byte[] Bytes(this Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
