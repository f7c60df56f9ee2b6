using System.Buffers;

namespace Mailroom.Fuzz;

/// <summary>A <see cref="ReadOnlySequence{T}"/> cut into the segments a network read would give.</summary>
internal sealed class Segment : ReadOnlySequenceSegment<byte>
{
    private Segment(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Sequence(ReadOnlyMemory<byte> data, IEnumerable<int> chunks)
    {
        Segment? first = null, last = null;
        var at = 0;
        foreach (var size in chunks)
        {
            var next = new Segment(data.Slice(at, size), at);
            if (last is null)
            {
                first = next;
            }
            else
            {
                last.Next = next;
            }

            last = next;
            at += size;
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }
}
