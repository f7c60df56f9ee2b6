using System.Buffers;

namespace Mailroom.Testing.Properties;

/// <summary>
/// A seeded property runner: every case gets its own seed, drawn from the test's fixed seed, so a
/// failure names the one case to replay. Set MAILROOM_PROPERTY_SEED to explore with another seed.
/// One source file, compiled into each test project that has properties (see its csproj).
/// </summary>
internal static class Property
{
    public static void ForAll(int seed, int cases, Action<Random> check) =>
        ForAllAsync(seed, cases, random =>
        {
            check(random);
            return Task.CompletedTask;
        }).GetAwaiter().GetResult();

    public static async Task ForAllAsync(int seed, int cases, Func<Random, Task> check)
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
                await check(new Random(caseSeed));
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

    /// <summary>The bytes as one segment, or as many random small ones, as a pipe hands them out.</summary>
    public static ReadOnlySequence<byte> Segmented(this Random random, byte[] bytes)
    {
        if (bytes.Length == 0 || random.Next(2) == 0)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        Segment? first = null;
        Segment? last = null;
        for (var i = 0; i < bytes.Length;)
        {
            var size = Math.Min(random.Next(1, 16), bytes.Length - i);
            var segment = new Segment(bytes.AsMemory(i, size), last);
            first ??= segment;
            last = segment;
            i += size;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, Segment? previous)
        {
            Memory = memory;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }
}
