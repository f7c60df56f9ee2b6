using System.Globalization;
using System.Text;
using Mailroom.Cli.Send;
using MimeKit;

namespace Mailroom.Cli.Shell;

/// <summary>An attachment as the shell lists it: its number (from 1), safe file name, type and decoded size.</summary>
internal sealed record AttachmentInfo(int Index, string FileName, string MimeType, long Size, MimeEntity Entity);

/// <summary>
/// A message as the shell shows it (RFC 5322 headers, RFC 2045-2049 bodies, decoded by MimeKit):
/// the main headers, the text part in whatever charset and transfer encoding it came, the HTML part
/// as text when there is no text part, and the attachments.
/// </summary>
internal sealed class MessageView
{
    private MessageView(MimeMessage message, IReadOnlyList<AttachmentInfo> attachments)
    {
        Message = message;
        Attachments = attachments;
    }

    public MimeMessage Message { get; }

    public IReadOnlyList<AttachmentInfo> Attachments { get; }

    public static MessageView Parse(byte[] content)
    {
        ArgumentNullException.ThrowIfNull(content);
        using var stream = new MemoryStream(content, writable: false);
        var message = MimeMessage.Load(stream);
        var attachments = message.Attachments
            .Select((entity, i) => new AttachmentInfo(i + 1, SafeFileName(entity, i + 1), entity.ContentType.MimeType, DecodedSize(entity), entity))
            .ToList();
        return new MessageView(message, attachments);
    }

    public void WriteTo(TextWriter output, int number)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"message {number}"));
        Header(output, "From", Message.From.ToString());
        Header(output, "To", Message.To.ToString());
        if (Message.Cc.Count > 0)
        {
            Header(output, "Cc", Message.Cc.ToString());
        }

        Header(output, "Date", Message.Date == DateTimeOffset.MinValue ? string.Empty : Message.Date.ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture));
        Header(output, "Subject", Message.Subject ?? string.Empty);
        output.WriteLine();
        var text = Message.TextBody ?? (Message.HtmlBody is { } html ? HtmlText.ToPlainText(html) : null);
        output.WriteLine(text is null ? "(no text)" : TerminalText.Safe(text.ReplaceLineEndings("\n").TrimEnd('\n')));
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"attachments: {Attachments.Count}"));
        foreach (var attachment in Attachments)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {attachment.Index}  {attachment.FileName}  {TerminalText.Safe(attachment.MimeType)}  {attachment.Size} bytes"));
        }
    }

    /// <summary>Writes the decoded content of an attachment (a forwarded message as its octets).</summary>
    public static async Task WriteContentAsync(MimeEntity entity, Stream destination, CancellationToken cancellationToken)
    {
        switch (entity)
        {
            case MimePart { Content: { } content }:
                await content.DecodeToAsync(destination, cancellationToken).ConfigureAwait(false);
                break;
            case MessagePart { Message: { } inner }:
                await inner.WriteToAsync(destination, cancellationToken).ConfigureAwait(false);
                break;
            default:
                break;
        }
    }

    private static void Header(TextWriter output, string name, string value) =>
        output.WriteLine($"{name}: {TerminalText.Safe(value).Replace('\n', ' ').Replace('\t', ' ')}");

    private static long DecodedSize(MimeEntity entity)
    {
        using var counter = new CountingStream();
        WriteContentAsync(entity, counter, CancellationToken.None).GetAwaiter().GetResult();
        return counter.Length;
    }

    /// <summary>
    /// Only the last part of the name the sender chose: "../../.bashrc" or "C:\x\y" must not pick
    /// where a file lands. Empty, "." and ".." become "attachment-N".
    /// </summary>
    public static string SafeFileName(MimeEntity entity, int index)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var name = entity switch
        {
            MimePart part => part.FileName,
            MessagePart { Message: { } inner } => (inner.Subject ?? "message") + ".eml",
            _ => null,
        };
        return SafeFileName(name, index);
    }

    public static string SafeFileName(string? name, int index)
    {
        var last = (name ?? string.Empty).Replace('\\', '/').Split('/')[^1];
        var clean = new StringBuilder();
        foreach (var c in last)
        {
            clean.Append(char.IsControl(c) || Path.GetInvalidFileNameChars().Contains(c) ? '_' : c);
        }

        var result = clean.ToString().Trim();
        return result is "" or "." or ".." ? string.Create(CultureInfo.InvariantCulture, $"attachment-{index}") : result;
    }

    /// <summary>Counts what is written to it, keeping nothing.</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => _length += count;

        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            _length += count;
            return Task.CompletedTask;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _length += buffer.Length;
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>
/// Text from a message, made safe to print: a hostile message must not drive the terminal (ECMA-48
/// escape and control sequences), so every control character but newline and tab becomes U+FFFD.
/// </summary>
internal static class TerminalText
{
    public static string Safe(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(Unsafe))
        {
            return text;
        }

        var clean = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            clean.Append(Unsafe(c) ? '\uFFFD' : c);
        }

        return clean.ToString();
    }

    private static bool Unsafe(char c) => char.IsControl(c) && c is not '\n' and not '\t';
}
