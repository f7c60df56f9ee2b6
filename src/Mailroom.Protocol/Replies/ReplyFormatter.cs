using System.Buffers;
using System.Globalization;
using System.Text;

namespace Mailroom.Protocol.Replies;

/// <summary>
/// The one place replies become bytes. RFC 5321 4.2.1: every line but the last of a multi-line
/// reply is <c>code "-" text</c>, the last <c>code SP text</c>. RFC 2034 section 4: with
/// ENHANCEDSTATUSCODES, each line's text starts with the enhanced code and a space.
/// </summary>
public static class ReplyFormatter
{
    /// <summary>
    /// Room for everything on a line but its text: the code, the separator, the enhanced code
    /// (three numbers of at most 11 characters each and two dots), a space and CRLF.
    /// </summary>
    private const int MaxFraming = 11 + 1 + (3 * 11) + 2 + 1 + 2;

    /// <summary>Writes the reply straight into <paramref name="output"/>, with no string in between.</summary>
    public static void Write(SmtpReply reply, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(reply);
        ArgumentNullException.ThrowIfNull(output);
        for (var i = 0; i < reply.Lines.Count; i++)
        {
            var text = reply.Lines[i];
            var span = output.GetSpan(MaxFraming + Encoding.UTF8.GetMaxByteCount(text.Length));
            var length = Number(reply.Code, span);
            span[length++] = i == reply.Lines.Count - 1 ? (byte)' ' : (byte)'-';
            if (reply.Enhanced is { } enhanced)
            {
                length += Number(enhanced.Class, span[length..]);
                span[length++] = (byte)'.';
                length += Number(enhanced.Subject, span[length..]);
                span[length++] = (byte)'.';
                length += Number(enhanced.Detail, span[length..]);
                span[length++] = (byte)' ';
            }

            length += Encoding.UTF8.GetBytes(text, span[length..]);
            span[length++] = (byte)'\r';
            span[length++] = (byte)'\n';
            output.Advance(length);
        }
    }

    private static int Number(int value, Span<byte> destination)
    {
        _ = value.TryFormat(destination, out var written, default, CultureInfo.InvariantCulture);
        return written;
    }
}
