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
    public static void Write(SmtpReply reply, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(reply);
        ArgumentNullException.ThrowIfNull(output);
        var enhanced = reply.Enhanced?.ToString();
        for (var i = 0; i < reply.Lines.Count; i++)
        {
            var separator = i == reply.Lines.Count - 1 ? ' ' : '-';
            var line = enhanced is null
                ? string.Create(CultureInfo.InvariantCulture, $"{reply.Code}{separator}{reply.Lines[i]}\r\n")
                : string.Create(CultureInfo.InvariantCulture, $"{reply.Code}{separator}{enhanced} {reply.Lines[i]}\r\n");
            var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(line.Length));
            output.Advance(Encoding.UTF8.GetBytes(line, span));
        }
    }
}
