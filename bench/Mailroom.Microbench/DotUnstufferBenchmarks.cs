using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Mailroom.Protocol.Data;

namespace Mailroom.Microbench;

/// <summary>
/// DATA content through the un-stuffer as SmtpSession.ReceiveDataAsync feeds it: a pipe buffer
/// of 4 KiB segments (the pipe's default segment size), each fed in slices of at most 16 KiB into
/// one reused scratch buffer, up to and including the final CRLF "." CRLF.
/// </summary>
[MemoryDiagnoser]
public class DotUnstufferBenchmarks
{
    private const int SegmentSize = 4096;
    private const int SliceSize = 16 * 1024;

    private ReadOnlySequence<byte> _input;
    private byte[] _scratch = [];

    /// <summary>The message size in octets before the terminator.</summary>
    [Params(1024, 100 * 1024)]
    public int BodySize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _input = Segmented(Body(BodySize), SegmentSize);
        _scratch = new byte[SliceSize + 1];
    }

    [Benchmark]
    public int Unstuff()
    {
        var unstuffer = new DotUnstuffer();
        var total = 0;
        foreach (var segment in _input)
        {
            for (var start = 0; start < segment.Length; start += SliceSize)
            {
                var slice = segment.Slice(start, Math.Min(SliceSize, segment.Length - start));
                var done = unstuffer.Feed(slice.Span, _scratch, out _, out var written);
                total += written;
                if (done)
                {
                    return total;
                }
            }
        }

        throw new InvalidOperationException("The terminator was not found.");
    }

    /// <summary>
    /// Header and text lines of 78 octets and CRLF; every tenth line starts with a dot, stuffed as
    /// the client sends it. Then CRLF "." CRLF.
    /// </summary>
    internal static byte[] Body(int size)
    {
        var text = new StringBuilder("From: alice@example.org\r\nTo: bob@example.net\r\nSubject: benchmark\r\n\r\n");
        for (var i = 0; text.Length < size; i++)
        {
            var line = i % 10 == 9 ? ".." + new string('d', 76) : new string((char)('a' + (i % 26)), 78);
            text.Append(line).Append("\r\n");
        }

        text.Length = size - 2;
        text.Append("\r\n.\r\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    internal static ReadOnlySequence<byte> Segmented(byte[] bytes, int segmentSize)
    {
        Segment? first = null;
        Segment? last = null;
        for (var start = 0; start < bytes.Length; start += segmentSize)
        {
            var memory = bytes.AsMemory(start, Math.Min(segmentSize, bytes.Length - start));
            last = last is null ? first = new Segment(memory, 0) : last.Append(memory);
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
