using System.Buffers;
using System.Globalization;
using System.Text;

namespace Mailroom.Protocol.Replies;

/// <summary>
/// Reads replies off the wire (the client's side of RFC 5321 4.2): <c>Reply-line = *( Reply-code
/// "-" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF</c>. With
/// <paramref name="enhanced"/> set, a leading RFC 3463 code on each line is split off.
/// "Incomplete" consumes nothing.
/// </summary>
public static class ReplyParser
{
    /// <summary>RFC 5321 4.5.3.1.5: a reply line is at most 512 octets including CRLF.</summary>
    public const int MaxReplyLine = 512;

    /// <summary>
    /// Whether the reply at the start of <paramref name="buffer"/> has come in full (its final line
    /// is there), looking only at what follows <paramref name="scanned"/>: the octets of its
    /// continuation lines already seen, which this moves on. A reader that calls this as octets
    /// arrive, and <see cref="TryParse"/> only once it says yes, looks at each line's octets once
    /// instead of parsing the whole reply again at every read, and can bound it by <paramref name="scanned"/>. Throws
    /// <see cref="FormatException"/> for a line with no end in sight, as <see cref="TryParse"/> does.
    /// </summary>
    public static bool HasFinalLine(in ReadOnlySequence<byte> buffer, ref long scanned)
    {
        var reader = new SequenceReader<byte>(buffer.Slice(scanned));
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
        {
            // "Reply-code [ SP textstring ] CRLF" ends the reply; "Reply-code "-" ..." does not.
            // Anything else is for TryParse to refuse.
            if (line.Length < 4 || line.Slice(3, 1).FirstSpan[0] != (byte)'-')
            {
                return true;
            }

            scanned += line.Length + 1;
        }

        if (reader.Remaining > MaxReplyLine * 64)
        {
            throw new FormatException("The reply is too long.");
        }

        return false;
    }

    public static bool TryParse(ref ReadOnlySequence<byte> buffer, bool enhanced, out SmtpReply? reply)
    {
        reply = null;
        var reader = new SequenceReader<byte>(buffer);
        var lines = new List<string>();
        int? code = null;
        EnhancedStatusCode? enh = null;
        while (reader.TryReadTo(out ReadOnlySequence<byte> raw, (byte)'\n'))
        {
            var line = Encoding.UTF8.GetString(raw).TrimEnd('\r');
            // RFC 5321 4.2: "Reply-code = %x32-35 %x30-35 %x30-39": a code outside 2xx-5xx is not a
            // reply, and says so with the parser's one error rather than SmtpReply's argument check.
            if (line.Length < 3 || !int.TryParse(line.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var lineCode) ||
                lineCode is < 200 or > 599 || (code is not null && code != lineCode) || (line.Length > 3 && line[3] is not (' ' or '-')))
            {
                throw new FormatException($"Not an SMTP reply line: '{line}'.");
            }

            code = lineCode;
            var text = line.Length > 4 ? line[4..] : string.Empty;
            var space = text.IndexOf(' ', StringComparison.Ordinal);
            if (enhanced && EnhancedStatusCode.TryParse(space < 0 ? text : text[..space], out var parsed) && parsed.Class == lineCode / 100)
            {
                enh = parsed;
                text = space < 0 ? string.Empty : text[(space + 1)..];
            }

            lines.Add(text);
            if (line.Length == 3 || line[3] == ' ')
            {
                buffer = buffer.Slice(reader.Position);
                reply = new SmtpReply(lineCode, enh, lines);
                return true;
            }
        }

        if (reader.Remaining > MaxReplyLine * 64)
        {
            throw new FormatException("The reply is too long.");
        }

        return false;
    }
}
