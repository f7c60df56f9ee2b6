namespace Mailroom.Client;

/// <summary>
/// What a message needs from the server: 8-bit octets need 8BITMIME (RFC 6152 3); lines over 998
/// octets or a bare CR or LF break DATA's line rules (RFC 5321 4.5.3.1.6, 2.3.8), which BDAT
/// (RFC 3030) carries by count instead.
/// </summary>
/// <param name="BareCrOrLf">A CR or LF seen outside a CRLF: known only from a scan, never assumed.</param>
internal readonly record struct MessageShape(bool EightBit, bool NotLineClean, bool BareCrOrLf = false)
{
    /// <summary>A stream we cannot read twice: assume the worst for what is needed, but claim no bare CR or LF we did not see.</summary>
    public static MessageShape Unknown => new(true, true);

    public bool SevenBitShortLines => !EightBit && !NotLineClean;

    public static MessageShape Of(ReadOnlySpan<byte> content)
    {
        var scanner = new Scanner();
        scanner.Feed(content);
        return scanner.Result;
    }

    /// <summary>Reads the message of a seekable stream in chunks and puts it back where it was.</summary>
    public static async Task<MessageShape> ScanAsync(Stream message, long length, CancellationToken cancellationToken)
    {
        if (!message.CanSeek)
        {
            return Unknown;
        }

        var start = message.Position;
        var scanner = new Scanner();
        var buffer = new byte[64 * 1024];
        for (var left = length; left > 0;)
        {
            var read = await message.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            scanner.Feed(buffer.AsSpan(0, read));
            left -= read;
        }

        message.Position = start;
        return scanner.Result;
    }

    private sealed class Scanner
    {
        /// <summary>RFC 5321 4.5.3.1.6: 1000 octets including the CRLF, so 999 with the CR.</summary>
        private const int MaxLineWithCr = 999;

        private bool _eightBit;
        private bool _notClean;
        private bool _bare;
        private bool _afterCr;
        private int _line;

        public MessageShape Result => new(_eightBit, _notClean || _afterCr, _bare || _afterCr);

        public void Feed(ReadOnlySpan<byte> content)
        {
            foreach (var b in content)
            {
                _eightBit |= b >= 0x80;
                _bare |= (_afterCr && b != (byte)'\n') || (!_afterCr && b == (byte)'\n');
                _notClean |= _bare;
                _afterCr = b == (byte)'\r';
                _line = b == (byte)'\n' ? 0 : _line + 1;
                _notClean |= _line > MaxLineWithCr;
            }
        }
    }
}
