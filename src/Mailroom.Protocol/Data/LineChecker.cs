namespace Mailroom.Protocol.Data;

/// <summary>
/// Watches message content for what RFC 5321 forbids in text: a CR or LF that is not
/// part of a CRLF (section 2.3.8), and a line longer than the limit (section 4.5.3.1.6). Used for
/// DATA (inside <see cref="DotUnstuffer"/>) and for BDAT chunks alike.
/// </summary>
public struct LineChecker
{
    private bool _afterCr;
    private int _lineLength;

    public LineChecker(int maxLineLength)
    {
        MaxLineLength = maxLineLength;
    }

    /// <summary>The longest line allowed, CRLF included.</summary>
    public int MaxLineLength { get; }

    public bool SawBareLineEnding { get; private set; }

    public bool SawLongLine { get; private set; }

    /// <summary>
    /// Takes a piece of content. Runs of text between line endings are measured with a vectorised
    /// search rather than byte by byte: this runs over every octet of every message.
    /// </summary>
    public void Check(ReadOnlySpan<byte> content)
    {
        var rest = content;
        while (!rest.IsEmpty)
        {
            if (_afterCr)
            {
                Advance(rest[0]);
                rest = rest[1..];
                continue;
            }

            var end = rest.IndexOfAny((byte)'\r', (byte)'\n');
            var run = end < 0 ? rest.Length : end;

            // What Advance does for each of these octets: none is CR or LF, so each only lengthens the line.
            _lineLength = (int)Math.Min((long)_lineLength + run, int.MaxValue);
            if (_lineLength > MaxLineLength - 2)
            {
                SawLongLine = true;
            }

            if (end < 0)
            {
                return;
            }

            Advance(rest[end]);
            rest = rest[(end + 1)..];
        }
    }

    /// <summary>The content has ended: a CR left waiting for its LF is a bare CR.</summary>
    public void Complete()
    {
        if (_afterCr)
        {
            SawBareLineEnding = true;
            _afterCr = false;
        }
    }

    /// <summary>Takes one byte; returns true when it ended a line with CRLF.</summary>
    public bool Advance(byte b)
    {
        if (b == (byte)'\n')
        {
            if (_afterCr)
            {
                _afterCr = false;
                _lineLength = 0;
                return true;
            }

            SawBareLineEnding = true;
            return false;
        }

        if (_afterCr)
        {
            SawBareLineEnding = true;
        }

        _afterCr = b == (byte)'\r';
        if (!_afterCr && ++_lineLength > MaxLineLength - 2)
        {
            SawLongLine = true;
        }

        return false;
    }
}
