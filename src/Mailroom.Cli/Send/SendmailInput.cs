using System.Text;
using MimeKit;

namespace Mailroom.Cli.Send;

/// <summary>
/// The message a sendmail caller gives, kept as the caller wrote it: line endings made CRLF (RFC
/// 5321 2.3.8; scripts write LF), Bcc header fields cut out of the raw header block for
/// <c>-t</c>, and From, Date and Message-ID added in front when missing, as sendmail does. The
/// rest of the octets, the body above all, are passed on untouched (no MIME re-encoding).
/// </summary>
internal sealed class SendmailInput
{
    private SendmailInput(byte[] octets, IReadOnlyList<string> headerRecipients, string? fromAddress)
    {
        Octets = octets;
        HeaderRecipients = headerRecipients;
        FromAddress = fromAddress;
    }

    public byte[] Octets { get; }

    /// <summary>The addresses of To, Cc and Bcc, for <c>-t</c>.</summary>
    public IReadOnlyList<string> HeaderRecipients { get; }

    /// <summary>The From header's first address, if any.</summary>
    public string? FromAddress { get; }

    /// <summary>
    /// Reads standard input line by line: to its end, or (sendmail without -i) to a line that is a
    /// single dot, which is not read past, so a caller that then waits for us is not left hanging.
    /// </summary>
    public static async Task<byte[]> ReadAsync(Stream input, bool ignoreDots, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(input, Encoding.Latin1, detectEncodingFromByteOrderMarks: false);
        var message = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (!ignoreDots && line == ".")
            {
                break;
            }

            message.Append(line).Append("\r\n");
        }

        // Latin-1 maps each octet to one char and back: the octets pass through unchanged.
        return Encoding.Latin1.GetBytes(message.ToString());
    }

    /// <summary>Prepares the message; <paramref name="removeBcc"/> for -t.</summary>
    public static SendmailInput Prepare(byte[] octets, bool removeBcc, Func<string> defaultFrom)
    {
        ArgumentNullException.ThrowIfNull(octets);
        ArgumentNullException.ThrowIfNull(defaultFrom);
        using var parsed = MimeMessage.Load(new MemoryStream(octets, writable: false));
        var recipients = parsed.To.Mailboxes.Concat(parsed.Cc.Mailboxes).Concat(parsed.Bcc.Mailboxes).Select(m => m.Address).ToList();
        var from = parsed.From.Mailboxes.FirstOrDefault()?.Address;
        var text = Encoding.Latin1.GetString(octets);
        var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var header = headerEnd < 0 ? text : text[..(headerEnd + 2)];
        var rest = headerEnd < 0 ? string.Empty : text[(headerEnd + 2)..];
        if (removeBcc)
        {
            header = RemoveField(header, "Bcc");
        }

        var added = new StringBuilder();
        if (from is null)
        {
            from = defaultFrom();
            added.Append("From: ").Append(from).Append("\r\n");
        }

        if (parsed.Headers[HeaderId.Date] is null)
        {
            added.Append("Date: ").Append(MimeKit.Utils.DateUtils.FormatDate(DateTimeOffset.Now)).Append("\r\n");
        }

        if (string.IsNullOrEmpty(parsed.MessageId))
        {
            added.Append("Message-ID: <").Append(MimeKit.Utils.MimeUtils.GenerateMessageId(from.Contains('@', StringComparison.Ordinal) ? from[(from.LastIndexOf('@') + 1)..] : "localhost")).Append(">\r\n");
        }

        return new SendmailInput(Encoding.Latin1.GetBytes(added + header + rest), recipients, from);
    }

    /// <summary>Cuts every occurrence of a header field, with its folded continuation lines (RFC 5322 2.2.3), out of a header block.</summary>
    private static string RemoveField(string header, string name)
    {
        var kept = new StringBuilder(header.Length);
        var skipping = false;
        foreach (var line in header.Split("\r\n"))
        {
            var continuation = line.Length > 0 && (line[0] == ' ' || line[0] == '\t');
            if (!continuation)
            {
                skipping = line.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase) ||
                    (line.StartsWith(name, StringComparison.OrdinalIgnoreCase) && line.AsSpan(name.Length).TrimStart(" \t").StartsWith(":"));
            }

            if (!skipping)
            {
                kept.Append(line).Append("\r\n");
            }
        }

        // Split left one empty piece after the final CRLF: drop the extra CRLF it produced.
        return kept.ToString(0, kept.Length - 2);
    }
}
