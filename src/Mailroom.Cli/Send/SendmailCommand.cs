using System.CommandLine;
using System.Text;
using Mailroom.Cli.Admin;
using MimeKit;

namespace Mailroom.Cli.Send;

/// <summary>
/// <c>mailroom sendmail</c>: the sendmail command line that cron, git send-email, mutt and scripts
/// expect. Reads a whole RFC 5322 message from standard input; recipients are the arguments, or
/// with <c>-t</c> the To, Cc and Bcc headers (Bcc is then removed); <c>-f</c> sets the envelope
/// sender; without <c>-i</c> (or <c>-oi</c>) a line with a single dot ends the message, as in
/// sendmail. The server and credentials come from the client configuration (see
/// <see cref="ClientSettings"/>). Other <c>-o</c> options that sendmail callers pass are accepted and ignored.
/// </summary>
public static class SendmailCommand
{
    public static Command Create()
    {
        var headersGiveRecipients = new Option<bool>("-t") { Description = "Take the recipients from To, Cc and Bcc (and remove Bcc)" };
        var sender = new Option<string?>("-f") { Description = "The envelope sender" };
        var ignoreDots = new Option<bool>("-i", "-oi") { Description = "A line with a single dot does not end the message" };
        var recipients = new Argument<string[]>("recipients") { Description = "The recipients (with -t, added to those of the headers)", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("sendmail", "Send a message read from standard input, as sendmail does (server and login from ~/.config/mailroom/client.json)")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.Options.Add(headersGiveRecipients);
        command.Options.Add(sender);
        command.Options.Add(ignoreDots);
        command.Arguments.Add(recipients);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var settings = ClientSettings.Load();
                if (settings.Server is null)
                {
                    return Fail(error, ExitCodes.Config, "no Server in the client configuration (~/.config/mailroom/client.json or $MAILROOM_CLIENT_CONFIG)");
                }

                var input = await ReadInputAsync(Console.OpenStandardInput(), parse.GetValue(ignoreDots), cancellationToken).ConfigureAwait(false);
                using var message = await MimeMessage.LoadAsync(input, cancellationToken).ConfigureAwait(false);
                var to = (parse.GetValue(recipients) ?? []).ToList();
                if (parse.GetValue(headersGiveRecipients))
                {
                    to.AddRange(message.To.Mailboxes.Concat(message.Cc.Mailboxes).Concat(message.Bcc.Mailboxes).Select(m => m.Address));
                    message.Headers.RemoveAll(HeaderId.Bcc);
                }

                to = to.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
                if (to.Count == 0)
                {
                    return Fail(error, ExitCodes.Usage, "no recipients: name them, or use -t");
                }

                var envelopeSender = parse.GetValue(sender) ?? settings.From ?? message.From.Mailboxes.FirstOrDefault()?.Address
                    ?? $"{Environment.UserName}@{System.Net.Dns.GetHostName()}";

                // What sendmail adds when a script leaves it out.
                if (message.From.Count == 0)
                {
                    message.From.Add(MailboxAddress.Parse(envelopeSender));
                }

                if (!message.Headers.Contains(HeaderId.Date))
                {
                    message.Date = DateTimeOffset.Now;
                }

                if (string.IsNullOrEmpty(message.MessageId))
                {
                    message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId(message.From.Mailboxes.FirstOrDefault()?.Domain ?? "localhost");
                }

                var content = await MessageBuilder.SerializeAsync(message, eightBit: true, cancellationToken).ConfigureAwait(false);
                await using (content.ConfigureAwait(false))
                {
                    var submission = new Submission(settings.Server, settings.Tls, settings.TlsFingerprint, settings.User, settings.User is null ? null : settings.Password(), null);
                    var result = await Delivery.SendAsync(submission, envelopeSender, to, content, error, cancellationToken).ConfigureAwait(false);
                    return await SendCommand.ReportAsync(result, to.Count, output, error).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (SendFailure.ExitCodeOf(ex) is { } code)
            {
                return Fail(error, code, ex.Message);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or ParseException or FileNotFoundException or UnauthorizedAccessException)
            {
                return Fail(error, ExitCodes.DataError, ex.Message);
            }
        });
        return command;
    }

    /// <summary>Standard input to its end, or (sendmail without -i) to a line that is a single dot.</summary>
    internal static async Task<MemoryStream> ReadInputAsync(Stream input, bool ignoreDots, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        await input.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (!ignoreDots)
        {
            var bytes = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
            var at = 0;
            while (at < bytes.Length)
            {
                var end = bytes[at..].IndexOf((byte)'\n');
                var line = end < 0 ? bytes[at..] : bytes.Slice(at, end);
                if (line.SequenceEqual("."u8) || line.SequenceEqual(".\r"u8))
                {
                    buffer.SetLength(at);
                    break;
                }

                at = end < 0 ? bytes.Length : at + end + 1;
            }
        }

        buffer.Position = 0;
        return buffer;
    }

    private static int Fail(TextWriter error, int code, string message)
    {
        error.WriteLine($"mailroom sendmail: {message}");
        return code;
    }
}
