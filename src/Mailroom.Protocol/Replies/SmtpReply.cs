using System.Text;

namespace Mailroom.Protocol.Replies;

/// <summary>
/// A reply as sent: a three-digit code, an optional enhanced status code, and one or more lines of
/// text. Build replies from <see cref="ReplyCatalogue"/>; <see cref="ReplyFormatter"/> puts them on the wire.
/// </summary>
public sealed class SmtpReply
{
    public SmtpReply(int code, EnhancedStatusCode? enhanced, IReadOnlyList<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        if (code is < 200 or > 599)
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "A reply code is 2xx to 5xx.");
        }

        if (lines.Count == 0)
        {
            throw new ArgumentException("A reply has at least one line.", nameof(lines));
        }

        Code = code;
        Enhanced = enhanced;
        Lines = lines;
    }

    public int Code { get; }

    public EnhancedStatusCode? Enhanced { get; }

    public IReadOnlyList<string> Lines { get; }

    /// <summary>The reply as it appears on the wire, CRLF after every line.</summary>
    public override string ToString()
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        ReplyFormatter.Write(this, writer);
        return Encoding.UTF8.GetString(writer.WrittenSpan);
    }
}
