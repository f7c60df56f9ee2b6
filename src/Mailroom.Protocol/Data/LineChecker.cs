namespace Mailroom.Protocol.Data;

/// <summary>
/// Watches message content byte by byte for what RFC 5321 forbids in text: a CR or LF that is not
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

    public void Check(ReadOnlySpan<byte> content)
    {
        foreach (var b in content)
        {
            Advance(b);
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
