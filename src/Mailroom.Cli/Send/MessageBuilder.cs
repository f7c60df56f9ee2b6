using MimeKit;
using MimeKit.Text;

namespace Mailroom.Cli.Send;

/// <summary>What <c>mailroom send</c> was asked to put in a message.</summary>
internal sealed record Composition(
    string From,
    IReadOnlyList<string> To,
    IReadOnlyList<string> Cc,
    string? Subject,
    string? Text,
    string? HtmlFile,
    IReadOnlyList<string> Attachments,
    IReadOnlyList<string> Headers);

/// <summary>
/// Builds a message with MimeKit (RFC 5322, RFC 2045-2049): Date, Message-ID and MIME-Version
/// always; UTF-8 text, encoded quoted-printable or base64 as MimeKit judges best, so it survives any
/// relay; a multipart/alternative when there is HTML; attachments with their file names (RFC 2231
/// encoded when they are not ASCII) and a content type guessed from the name.
/// </summary>
internal static class MessageBuilder
{
    public static MimeMessage Build(Composition composition)
    {
        ArgumentNullException.ThrowIfNull(composition);
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(composition.From));
        message.To.AddRange(composition.To.Select(MailboxAddress.Parse));
        message.Cc.AddRange(composition.Cc.Select(MailboxAddress.Parse));
        message.Subject = composition.Subject ?? string.Empty;
        message.Date = DateTimeOffset.Now;
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId(message.From.Mailboxes.First().Domain is { Length: > 0 } domain ? domain : "localhost");
        foreach (var header in composition.Headers)
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || header.AsSpan().ContainsAny('\r', '\n'))
            {
                throw new FormatException($"--header '{header}' is not \"Name: value\" on one line");
            }

            message.Headers.Add(header[..colon].Trim(), header[(colon + 1)..].Trim());
        }

        var body = new BodyBuilder();
        if (composition.Text is not null)
        {
            body.TextBody = composition.Text;
        }

        if (composition.HtmlFile is not null)
        {
            body.HtmlBody = File.ReadAllText(composition.HtmlFile);
            if (composition.Text is null)
            {
                // A text part for readers without HTML, made from the HTML.
                body.TextBody = HtmlText.ToPlainText(body.HtmlBody);
            }
        }

        if (composition.Text is null && composition.HtmlFile is null)
        {
            body.TextBody = string.Empty;
        }

        foreach (var file in composition.Attachments)
        {
            body.Attachments.Add(file);
        }

        message.Body = body.ToMessageBody();
        foreach (var part in message.BodyParts.OfType<TextPart>())
        {
            part.ContentType.Charset = "utf-8";
        }

        return message;
    }

    /// <summary>
    /// The message's octets. Without 8BITMIME every part is made 7-bit (RFC 6152: 8-bit data only
    /// to a server that said it takes it); with it, text may travel as 8bit.
    /// </summary>
    public static async Task<Stream> SerializeAsync(MimeMessage message, bool eightBit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        message.Prepare(eightBit ? EncodingConstraint.EightBit : EncodingConstraint.SevenBit);
        var file = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        try
        {
            // SMTP lines end in CRLF (RFC 5321 2.3.8), whatever this machine's newline is.
            var options = FormatOptions.Default.Clone();
            options.NewLineFormat = NewLineFormat.Dos;
            await message.WriteToAsync(options, file, cancellationToken).ConfigureAwait(false);
            file.Position = 0;
            return file;
        }
        catch
        {
            await file.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}

/// <summary>The text of an HTML document, for a reader without HTML: the data between the tags, scripts and styles left out.</summary>
internal static class HtmlText
{
    public static string ToPlainText(string html)
    {
        var text = new System.Text.StringBuilder();
        using var reader = new StringReader(html);
        var tokenizer = new HtmlTokenizer(reader);
        var skipping = false;
        while (tokenizer.ReadNextToken(out var token))
        {
            switch (token)
            {
                case HtmlTagToken tag when tag.Id is HtmlTagId.Script or HtmlTagId.Style:
                    skipping = !tag.IsEndTag;
                    break;
                case HtmlTagToken tag when !tag.IsEndTag && tag.Id is HtmlTagId.Br or HtmlTagId.P or HtmlTagId.Div or HtmlTagId.TR or HtmlTagId.LI:
                    text.Append('\n');
                    break;
                case HtmlDataToken data when !skipping:
                    text.Append(data.Data);
                    break;
                default:
                    break;
            }
        }

        return text.ToString().Trim() + "\n";
    }
}
