using System.Buffers;

namespace Mailroom.Protocol.Data;

/// <summary>
/// The sending side of DATA (RFC 5321 4.5.2): "Before sending a line of mail text, the SMTP
/// client checks the first character of the line. If it is a period, one additional period is
/// inserted at the beginning of the line." <see cref="Complete"/> ends the data with CRLF.CRLF,
/// adding the CRLF first when the content did not end with one.
/// </summary>
public struct DotStuffer
{
    private bool _midLine;
    private bool _afterCr;

    public void Write(ReadOnlySpan<byte> content, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var start = 0;
        for (var i = 0; i < content.Length; i++)
        {
            var b = content[i];
            if (!_midLine && b == (byte)'.')
            {
                output.Write(content[start..i]);
                output.Write("."u8);
                start = i;
            }

            _midLine = !(b == (byte)'\n' && _afterCr);
            _afterCr = b == (byte)'\r';
        }

        output.Write(content[start..]);
    }

    public readonly void Complete(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Write(_midLine ? "\r\n.\r\n"u8 : ".\r\n"u8);
    }
}
