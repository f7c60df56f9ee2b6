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
        var senderR = new Option<string?>("-r") { Description = "The envelope sender (as -f; mailx uses it)" };
        var fullName = new Option<string?>("-F") { Description = "The sender's full name (accepted; the From header is the message's own)" };
        var bodyType = new Option<string?>("-B") { Description = "The body type (accepted; 8BITMIME is used when the message needs it and the server offers it)" };
        var notify = new Option<string?>("-N") { Description = "DSN notification (accepted and ignored)" };
        var ignoreDots = new Option<bool>("-i", "-oi") { Description = "A line with a single dot does not end the message" };
        var recipients = new Argument<string[]>("recipients") { Description = "The recipients (with -t, added to those of the headers)", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("sendmail", "Send a message read from standard input, as sendmail does (server and login from ~/.config/mailroom/client.json)")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.Options.Add(headersGiveRecipients);
        command.Options.Add(sender);
        command.Options.Add(senderR);
        command.Options.Add(fullName);
        command.Options.Add(bodyType);
        command.Options.Add(notify);
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

                var octets = await SendmailInput.ReadAsync(Console.OpenStandardInput(), parse.GetValue(ignoreDots), cancellationToken).ConfigureAwait(false);
                var envelopeOption = parse.GetValue(sender) ?? parse.GetValue(senderR);
                var input = SendmailInput.Prepare(octets, parse.GetValue(headersGiveRecipients), () => envelopeOption ?? settings.From
                    ?? (settings.User is { } user && user.Contains('@', StringComparison.Ordinal) ? user : $"{Environment.UserName}@{System.Net.Dns.GetHostName()}"));
                var to = (parse.GetValue(recipients) ?? []).Where(r => !r.StartsWith('-')).ToList();
                if (parse.GetValue(headersGiveRecipients))
                {
                    to.AddRange(input.HeaderRecipients);
                }

                to = to.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
                if (to.Count == 0)
                {
                    return Fail(error, ExitCodes.Usage, "no recipients: name them, or use -t");
                }

                var envelopeSender = envelopeOption ?? settings.From ?? input.FromAddress!;
                var content = new MemoryStream(input.Octets, writable: false);
                await using (content.ConfigureAwait(false))
                {
                    var submission = new Submission(settings.Server, settings.Tls, settings.TlsFingerprint, settings.User, settings.User is null ? null : settings.Password(), null);
                    var result = await Delivery.SendAsync(submission, envelopeSender, to, content, error, cancellationToken).ConfigureAwait(false);
                    return await SendCommand.ReportAsync(result, to.Count, output, error).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (SendFailure.ExitCodeOf(ex) is { } code)
            {
                return Fail(error, code, Shell.TerminalText.Safe(ex.Message));
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or ParseException or FileNotFoundException or UnauthorizedAccessException)
            {
                return Fail(error, ExitCodes.DataError, ex.Message);
            }
        });
        return command;
    }

    private static int Fail(TextWriter error, int code, string message)
    {
        error.WriteLine($"mailroom sendmail: {message}");
        return code;
    }
}
