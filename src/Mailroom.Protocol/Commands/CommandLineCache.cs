using System.Text;

namespace Mailroom.Protocol.Commands;

/// <summary>
/// A session's memory of its last command line for each of a few verbs with arguments, so that a
/// line that comes again (the same MAIL FROM, RCPT TO or EHLO in every transaction) returns the
/// same parse result without parsing or allocating again, as Kestrel reuses a header value's
/// string when its octets repeat. The match is on the exact octets, case included, so the result
/// is always the one <see cref="CommandParser.Parse(ReadOnlySpan{byte})"/> gives for the line: the
/// commands are immutable records and may be shared.
/// </summary>
/// <remarks>
/// <para>
/// An idle session pays nothing but this struct's one reference: the slots are allocated on the
/// first line that can be kept. Memory is bounded by one slot per verb, each holding one line of at
/// most <see cref="MaxLineOctets"/> octets, except RCPT, which has a few.
/// </para>
/// <para>
/// Only the verbs listed in <see cref="SlotsOf"/> are kept. AUTH and LOGN (a password, SASL data)
/// and every verb not on that list go straight to the parser and leave nothing behind.
/// </para>
/// <para>
/// A mutable struct, held in a field and never copied: a copy would only be a second, separate
/// cache (each compares the octets itself, so neither can ever return another line's result).
/// </para>
/// </remarks>
public struct CommandLineCache
{
    /// <summary>
    /// RFC 5321 4.5.3.1.4: "The maximum total length of a command line including the command word
    /// and the &lt;CRLF&gt; is 512 octets." Longer lines (which an extension may allow) are parsed
    /// every time and never kept.
    /// </summary>
    public const int MaxLineOctets = 512;

    /// <summary>
    /// Slots for RCPT: a transaction to several recipients sends as many RCPT lines, the same ones
    /// in every transaction when a client delivers to the same list.
    /// </summary>
    private const int RcptSlots = 4;

    private const int SlotCount = 9 + RcptSlots - 1;

    private Slot[]? _slots;

    /// <summary>The RCPT slot replaced on the next miss, in turn.</summary>
    private int _nextRcpt;

    private struct Slot
    {
        public byte[]? Line;
        public int Length;
        public CommandParseResult Result;
    }

    /// <summary>Parses <paramref name="line"/> as <see cref="CommandParser.Parse(ReadOnlySpan{byte})"/> does, reusing the last result for the same octets.</summary>
    public CommandParseResult Parse(ReadOnlySpan<byte> line)
    {
        var (first, count) = SlotsOf(line);
        if (count == 0)
        {
            return CommandParser.Parse(line);
        }

        var slots = _slots ??= new Slot[SlotCount];
        for (var i = first; i < first + count; i++)
        {
            if (slots[i].Line is { } kept && line.SequenceEqual(kept.AsSpan(0, slots[i].Length)))
            {
                return slots[i].Result;
            }
        }

        var result = CommandParser.Parse(line);
        var index = first;
        if (count > 1)
        {
            index = first + _nextRcpt;
            _nextRcpt = (_nextRcpt + 1) % count;
        }

        ref var slot = ref slots[index];
        if (slot.Line is null || slot.Line.Length < line.Length)
        {
            // Rounded up so that lines of a similar length (recipients in turn) reuse the buffer.
            slot.Line = new byte[Math.Min(MaxLineOctets, (line.Length + 63) & ~63)];
        }

        line.CopyTo(slot.Line);
        slot.Length = line.Length;
        slot.Result = result;
        return result;
    }

    /// <summary>
    /// The slots for a line of a verb that is kept: the verb, matched without regard to case as the
    /// parser does, then a space (every one of them takes arguments). None for every other line,
    /// AUTH and LOGN among them, and for a line too long to keep.
    /// </summary>
    private static (int First, int Count) SlotsOf(ReadOnlySpan<byte> line)
    {
        if (line.Length <= 4 || line.Length > MaxLineOctets || line[4] != (byte)' ')
        {
            return (0, 0);
        }

        var verb = line[..4];
        return Ascii.EqualsIgnoreCase(verb, "RCPT"u8) ? (0, RcptSlots)
            : Ascii.EqualsIgnoreCase(verb, "MAIL"u8) ? (RcptSlots, 1)
            : Ascii.EqualsIgnoreCase(verb, "EHLO"u8) ? (RcptSlots + 1, 1)
            : Ascii.EqualsIgnoreCase(verb, "HELO"u8) ? (RcptSlots + 2, 1)
            : Ascii.EqualsIgnoreCase(verb, "BDAT"u8) ? (RcptSlots + 3, 1)
            : Ascii.EqualsIgnoreCase(verb, "READ"u8) ? (RcptSlots + 4, 1)
            : Ascii.EqualsIgnoreCase(verb, "DELE"u8) ? (RcptSlots + 5, 1)
            : Ascii.EqualsIgnoreCase(verb, "FLAG"u8) ? (RcptSlots + 6, 1)
            : (0, 0);
    }
}
