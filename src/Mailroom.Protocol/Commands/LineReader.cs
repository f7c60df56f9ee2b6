using System.Buffers;

namespace Mailroom.Protocol.Commands;

public enum LineStatus
{
    /// <summary>No complete line yet; nothing was consumed.</summary>
    Incomplete,

    /// <summary>A line ended by CRLF.</summary>
    Line,

    /// <summary>A line ended by LF alone (RFC 5321 2.3.8 forbids it; the caller refuses it).</summary>
    BareLineFeed,

    /// <summary>
    /// A line over the limit ended here; everything up to and including its LF was consumed
    /// without being kept.
    /// </summary>
    TooLong,

    /// <summary>A line over the limit has not ended yet: the buffer was consumed and the reader keeps discarding.</summary>
    Discarding,
}

/// <summary>
/// Finds command lines in a byte stream without ever holding more than the limit of one line
/// (RFC 5321 4.5.3.1.4: 512 octets including the CRLF). "Incomplete" consumes nothing, so the caller
/// may retry with more data; a line over the limit is skipped to its end, and the session goes on.
/// </summary>
public struct LineReader
{
    private bool _discarding;

    public LineStatus TryRead(ref ReadOnlySequence<byte> buffer, int maxLineLength, out ReadOnlySequence<byte> line)
    {
        line = default;
        if (!_discarding)
        {
            var window = buffer.Length > maxLineLength ? buffer.Slice(0, maxLineLength) : buffer;
            var end = window.PositionOf((byte)'\n');
            if (end is not null)
            {
                return TakeLine(ref buffer, end.Value, out line);
            }

            if (buffer.Length < maxLineLength)
            {
                return LineStatus.Incomplete;
            }

            _discarding = true;
            DiscardedLineWasBdat = CommandParser.IsBdatLine(buffer);
        }

        var lf = buffer.PositionOf((byte)'\n');
        if (lf is null)
        {
            buffer = buffer.Slice(buffer.End);
            return LineStatus.Discarding;
        }

        buffer = buffer.Slice(buffer.GetPosition(1, lf.Value));
        _discarding = false;
        return LineStatus.TooLong;
    }

    private static LineStatus TakeLine(ref ReadOnlySequence<byte> buffer, SequencePosition lf, out ReadOnlySequence<byte> line)
    {
        var content = buffer.Slice(0, lf);
        buffer = buffer.Slice(buffer.GetPosition(1, lf));
        if (content.Length > 0 && EndsWithCr(content))
        {
            line = content.Slice(0, content.Length - 1);
            return LineStatus.Line;
        }

        line = content;
        return LineStatus.BareLineFeed;
    }

    /// <summary>
    /// The line skipped for being too long was a BDAT command: its chunk's end is unknown, so the
    /// session cannot go on (see <see cref="CommandParser.IsBdatLine"/>).
    /// </summary>
    public bool DiscardedLineWasBdat { get; private set; }

    /// <summary>Forgets a partly discarded line, as after STARTTLS throws away the plaintext buffer.</summary>
    public void Reset() => _discarding = false;

    private static bool EndsWithCr(in ReadOnlySequence<byte> content)
    {
        var last = content.Slice(content.Length - 1);
        return last.FirstSpan[0] == (byte)'\r';
    }
}
