using System.Buffers;
using Mailroom.Protocol.Data;

namespace Mailroom.Fuzz.Targets;

/// <summary>
/// DATA (RFC 5321 4.5.2): <see cref="DotUnstuffer"/> fed afl's bytes in afl's pieces ends exactly
/// where a plain line-by-line reading finds the first CRLF "." CRLF, never past it, with the same
/// content; stuffing any content and un-stuffing it gives the content back; <see cref="LineChecker"/>
/// judges the same bytes the same in any pieces.
/// </summary>
internal static class DotTarget
{
    public static void Run(byte[] input)
    {
        var fuzz = new FuzzInput(input);
        var data = fuzz.DataArray;

        var (end, content) = Reference(data);
        var (ended, consumed, output) = Unstuff(data, fuzz.Chunks(data.Length));
        Invariant.Check(ended == (end >= 0), $"the un-stuffer {(ended ? "ended" : "did not end")}, the reference {(end >= 0 ? "did" : "did not")}");
        Invariant.Check(consumed == (end >= 0 ? end : data.Length), $"the un-stuffer stopped at {consumed}, the terminator ends at {end}");
        // Unended, the un-stuffer may still hold back the CR of a line that is "." CR so far.
        Invariant.Check(
            ended ? output.AsSpan().SequenceEqual(content)
                : content.AsSpan().StartsWith(output) && (content.Length == output.Length || (content.Length == output.Length + 1 && content[^1] == (byte)'\r')),
            "the un-stuffed content differs from the reference");

        // Stuff, then un-stuff: the content comes back (with the CRLF DotStuffer adds before the dot).
        var stuffer = new DotStuffer();
        var stuffed = new ArrayBufferWriter<byte>();
        var at = 0;
        foreach (var size in fuzz.Chunks(data.Length))
        {
            stuffer.Write(data.AsSpan(at, size), stuffed);
            at += size;
        }

        stuffer.Complete(stuffed);
        var wire = stuffed.WrittenSpan.ToArray();
        var (stuffedEnded, stuffedConsumed, unstuffed) = Unstuff(wire, new FuzzInput([(byte)(fuzz.Control ^ 0x55)]).Chunks(wire.Length));
        byte[] expected = data.Length == 0 || data.AsSpan().EndsWith("\r\n"u8) ? data : [.. data, (byte)'\r', (byte)'\n'];
        Invariant.Check(stuffedEnded && stuffedConsumed == wire.Length, "stuffed content did not end exactly at its terminator");
        Invariant.Check(unstuffed.AsSpan().SequenceEqual(expected), "stuff then un-stuff is not the identity");

        CheckLines(fuzz, data);
    }

    private static (bool Ended, int Consumed, byte[] Output) Unstuff(byte[] data, IEnumerable<int> chunks)
    {
        var unstuffer = new DotUnstuffer();
        var output = new ArrayBufferWriter<byte>();
        var at = 0;
        foreach (var size in chunks)
        {
            var piece = data.AsSpan(at, size);
            var span = output.GetSpan(size + 1);
            var ended = unstuffer.Feed(piece, span, out var consumed, out var written);
            // A withheld CR comes out with the next piece, so a piece may write one byte more than it consumed, never the whole more.
            Invariant.Check(consumed >= 0 && consumed <= size && written >= 0 && written <= consumed + 1, $"Feed consumed {consumed} and wrote {written} of {size}");
            Invariant.Check(output.WrittenCount + written <= at + consumed, "Feed wrote more than it consumed");
            Invariant.Check(ended || consumed == size, "Feed stopped early without the terminator");
            output.Advance(written);
            at += consumed;
            if (ended)
            {
                return (true, at, output.WrittenSpan.ToArray());
            }
        }

        return (false, at, output.WrittenSpan.ToArray());
    }

    /// <summary>
    /// The plain reading: lines start at the beginning and after CRLF only; a line that is "."
    /// ends the data; a line's leading dot is dropped. The end is just past the terminator, or -1.
    /// </summary>
    private static (int End, byte[] Content) Reference(byte[] data)
    {
        var content = new List<byte>();
        var i = 0;
        while (i < data.Length)
        {
            if (data.AsSpan(i).StartsWith(".\r\n"u8))
            {
                return (i + 3, [.. content]);
            }

            if (data[i] == (byte)'.')
            {
                i++;
            }

            var crlf = data.AsSpan(i).IndexOf("\r\n"u8);
            var next = crlf < 0 ? data.Length : i + crlf + 2;
            content.AddRange(data.AsSpan(i, next - i));
            i = next;
        }

        return (-1, [.. content]);
    }

    private static void CheckLines(FuzzInput fuzz, byte[] data)
    {
        var max = 4 + fuzz.Control;
        var whole = new LineChecker(max);
        whole.Check(data);
        whole.Complete();
        var pieces = new LineChecker(max);
        var at = 0;
        foreach (var size in fuzz.Chunks(data.Length))
        {
            pieces.Check(data.AsSpan(at, size));
            at += size;
        }

        pieces.Complete();
        var bytes = new LineChecker(max);
        foreach (var b in data)
        {
            bytes.Advance(b);
        }

        bytes.Complete();
        Invariant.Check(whole.SawBareLineEnding == pieces.SawBareLineEnding && whole.SawLongLine == pieces.SawLongLine, "LineChecker judges the same bytes differently in pieces");
        Invariant.Check(whole.SawBareLineEnding == bytes.SawBareLineEnding && whole.SawLongLine == bytes.SawLongLine, "LineChecker.Check and Advance disagree");
    }
}
