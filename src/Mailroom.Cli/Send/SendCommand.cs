using System.CommandLine;
using Mailroom.Cli.Admin;
using Mailroom.Client;

namespace Mailroom.Cli.Send;

/// <summary>
/// <c>mailroom send</c>: builds a MIME message from flags (text, HTML, attachments, headers) and
/// submits it to any SMTP server, securing and logging in as asked. Exit codes follow sysexits:
/// 0 sent, 75 try later, 65/69/77 refused for good, 64 a usage error.
/// </summary>
public static class SendCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "The sender (From and the envelope sender)", Required = true };
        var to = new Option<string[]>("--to") { Description = "A recipient; repeatable" };
        var cc = new Option<string[]>("--cc") { Description = "A copy recipient; repeatable" };
        var bcc = new Option<string[]>("--bcc") { Description = "A blind copy recipient (in the envelope, not the headers); repeatable" };
        var subject = new Option<string?>("--subject") { Description = "The subject" };
        var body = new Option<string?>("--body") { Description = "The text (otherwise --body-file, else standard input)" };
        var bodyFile = new Option<string?>("--body-file") { Description = "A file with the text (UTF-8)" };
        var html = new Option<string?>("--html") { Description = "A file with an HTML version of the text" };
        var attach = new Option<string[]>("--attach") { Description = "A file to attach; repeatable" };
        var headers = new Option<string[]>("--header") { Description = "An extra header, \"Name: value\"; repeatable" };
        var connection = new ConnectionOptions();
        var command = new Command("send", "Send a message (MIME, attachments) through an SMTP server");
        connection.AddTo(command);
        foreach (var option in new Option[] { from, to, cc, bcc, subject, body, bodyFile, html, attach, headers })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var settings = ClientSettings.Load();
                var recipients = (parse.GetValue(to) ?? []).Concat(parse.GetValue(cc) ?? []).Concat(parse.GetValue(bcc) ?? []).ToList();
                if (recipients.Count == 0)
                {
                    return Usage(error, "give at least one --to, --cc or --bcc");
                }

                var login = connection.User(parse, settings);
                string? password = null;
                if (login is not null && (password = await connection.PasswordAsync(parse, settings, login, error, cancellationToken).ConfigureAwait(false)) is null)
                {
                    return Usage(error, "no password: use --password-stdin, MAILROOM_PASSWORD or a terminal");
                }

                var text = parse.GetValue(body)
                    ?? (parse.GetValue(bodyFile) is { } file ? await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false) : null)
                    ?? (parse.GetValue(html) is null || Console.IsInputRedirected ? await Console.In.ReadToEndAsync(cancellationToken).ConfigureAwait(false) : null);
                var message = MessageBuilder.Build(new Composition(
                    parse.GetValue(from)!,
                    parse.GetValue(to) ?? [],
                    parse.GetValue(cc) ?? [],
                    parse.GetValue(subject),
                    text,
                    parse.GetValue(html),
                    parse.GetValue(attach) ?? [],
                    parse.GetValue(headers) ?? []));
                var submission = connection.Submission(parse, settings, login, password);

                // 8-bit parts only where the server takes them: MimeKit encodes for 7-bit otherwise.
                var content = await MessageBuilder.SerializeAsync(message, eightBit: false, cancellationToken).ConfigureAwait(false);
                await using (content.ConfigureAwait(false))
                {
                    var result = await Delivery.SendAsync(submission, message.From.Mailboxes.First().Address, recipients, content, error, cancellationToken).ConfigureAwait(false);
                    return await ReportAsync(result, recipients.Count, output, error).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (SendFailure.ExitCodeOf(ex) is { } code)
            {
                // The message may carry the server's reply: nothing in it may drive the terminal.
                await error.WriteLineAsync($"mailroom send: {Shell.TerminalText.Safe(ex.Message)}").ConfigureAwait(false);
                return code;
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or MimeKit.ParseException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
            {
                return Usage(error, ex.Message);
            }
        });
        return command;
    }

    /// <summary>The server's id for the message on standard output; recipients it refused on standard error, and their exit code.</summary>
    internal static async Task<int> ReportAsync(SendResult result, int recipients, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(result);
        // The id when the reply names one ("queued as ID", "id=ID"); otherwise the reply itself, which is all a server said.
        var id = result.QueueId is { } queueId ? $"the server's id for it: {queueId}" : $"the server said: {result.ReplyText}";
        await output.WriteLineAsync(Shell.TerminalText.Safe($"sent to {recipients - result.Refused.Count} of {recipients} recipient(s); {id}")).ConfigureAwait(false);
        foreach (var (recipient, reply) in result.Refused)
        {
            await error.WriteLineAsync(Shell.TerminalText.Safe($"mailroom: not sent to {recipient}: {reply}")).ConfigureAwait(false);
        }

        return result.Refused.Count == 0 ? 0 : result.Refused.Select(r => SendFailure.OfReply(r.Reply)).Max();
    }

    private static int Usage(TextWriter error, string message)
    {
        error.WriteLine($"mailroom send: {message}");
        return ExitCodes.Usage;
    }
}
