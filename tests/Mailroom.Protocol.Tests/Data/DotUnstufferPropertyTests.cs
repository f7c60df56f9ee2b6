using System.Text;
using Mailroom.Protocol.Data;

namespace Mailroom.Protocol.Tests.Data;

/// <summary>
/// The vectorised <see cref="DotUnstuffer"/> against the byte-at-a-time <see cref="ReferenceDotUnstuffer"/>:
/// random bodies made mostly of the octets that matter (".", CR, LF, CRLF "." CRLF), fed in random
/// chunks, give the same octets, the same end of data and the same consumed counts, call by call.
/// After an end of data the same un-stuffer reads on, as if a second message followed.
/// </summary>
public sealed class DotUnstufferPropertyTests
{
    private static readonly string[] Pieces =
    [
        ".", ".", "..", "\r", "\n", "\r\n", "\r\n", "\r\n.\r\n", "\r\n..\r\n", "\r\n.", ".\r", ".\n", "\n.\n", "\r.\r", "\n.\r\n",
        "\r\r\n", "a", "text ", "\t", "\0", "\xFF",
    ];

    [Fact]
    public void Random_bodies_in_random_chunks_give_what_the_reference_gives()
    {
        var random = new Random(4522);
        for (var i = 0; i < 3000; i++)
        {
            var body = Body(random);
            var cuts = Cuts(random, body.Length);

            // The same chunks through both: every call must agree.
            var (reference, referenceCalls, referenceEnds) = Run(body, cuts, useReference: true);
            var (actual, actualCalls, actualEnds) = Run(body, cuts, useReference: false);
            Assert.True(reference.AsSpan().SequenceEqual(actual), $"Body {i}: {Convert.ToHexString(body)}");
            Assert.Equal(referenceCalls, actualCalls);
            Assert.Equal(referenceEnds, actualEnds);

            // Other chunks: the split never changes what comes out or where the data ends.
            var (again, _, againEnds) = Run(body, Cuts(random, body.Length), useReference: false);
            Assert.True(reference.AsSpan().SequenceEqual(again), $"Body {i} split again: {Convert.ToHexString(body)}");
            Assert.Equal(referenceEnds, againEnds);
        }
    }

    [Fact]
    public void Long_runs_between_line_ends_give_what_the_reference_gives()
    {
        // Runs longer than any vector, with the octets that matter at every offset around them.
        var random = new Random(3030);
        for (var i = 0; i < 300; i++)
        {
            var text = new StringBuilder();
            while (text.Length < 20_000)
            {
                text.Append(new string('x', random.Next(0, 300))).Append(Pieces[random.Next(Pieces.Length)]);
            }

            var body = Encoding.Latin1.GetBytes(text.Append("\r\n.\r\n").ToString());
            var cuts = Cuts(random, body.Length);
            var (reference, referenceCalls, referenceEnds) = Run(body, cuts, useReference: true);
            var (actual, actualCalls, actualEnds) = Run(body, cuts, useReference: false);
            Assert.True(reference.AsSpan().SequenceEqual(actual), $"Body {i}");
            Assert.Equal(referenceCalls, actualCalls);
            Assert.Equal(referenceEnds, actualEnds);
        }
    }

    /// <summary>
    /// Feeds every chunk (and what follows an end of data in it) to a fresh un-stuffer, with an
    /// output exactly one octet longer than the input as the contract allows. Returns the octets
    /// out, each call's result and counts, and the offsets in the body where data ended.
    /// </summary>
    private static (byte[] Output, List<(bool Done, int Consumed, int Written)> Calls, List<int> Ends) Run(byte[] body, int[] cuts, bool useReference)
    {
        var reference = new ReferenceDotUnstuffer();
        var unstuffer = new DotUnstuffer();
        var output = new List<byte>();
        var calls = new List<(bool, int, int)>();
        var ends = new List<int>();
        var start = 0;
        foreach (var end in cuts.Append(body.Length))
        {
            var chunk = body.AsSpan(start, end - start);
            var offset = start;
            while (true)
            {
                var scratch = new byte[chunk.Length + 1];
                var done = useReference
                    ? reference.Feed(chunk, scratch, out var consumed, out var written)
                    : unstuffer.Feed(chunk, scratch, out consumed, out written);
                calls.Add((done, consumed, written));
                output.AddRange(scratch.AsSpan(0, written));
                if (done)
                {
                    ends.Add(offset + consumed);
                }

                if (!done || consumed == chunk.Length)
                {
                    break;
                }

                offset += consumed;
                chunk = chunk[consumed..];
            }

            start = end;
        }

        return ([.. output], calls, ends);
    }

    private static byte[] Body(Random random)
    {
        var text = new StringBuilder();
        var count = random.Next(0, 60);
        for (var i = 0; i < count; i++)
        {
            text.Append(random.Next(8) == 0 ? new string((char)random.Next('a', 'z' + 1), random.Next(1, 200)) : Pieces[random.Next(Pieces.Length)]);
        }

        return Encoding.Latin1.GetBytes(text.ToString());
    }

    /// <summary>Random cut points: none, a few, or every octet.</summary>
    private static int[] Cuts(Random random, int length) => random.Next(10) switch
    {
        0 => [],
        1 => [.. Enumerable.Range(1, Math.Max(0, length - 1))],
        _ => [.. Enumerable.Range(0, random.Next(0, 8)).Select(_ => random.Next(0, length + 1)).Order()],
    };
}
