using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;

using Mailroom.Core.Audit;
using Mailroom.Core.Storage;

namespace Mailroom.Cli.Admin;

/// <summary><c>mailroom mail list|show</c>: what the store holds, read without the server.</summary>
internal static class MailCommands
{
    public static Command Create()
    {
        var mail = new Command("mail", "Look at stored mail");
        mail.Subcommands.Add(List());
        mail.Subcommands.Add(Show());
        return mail;
    }

    private static Command List()
    {
        var mailbox = new Option<string?>("--mailbox") { Description = "Only deliveries to this mailbox address" };
        var json = new Option<bool>("--json") { Description = "Print a JSON array instead of lines" };
        var data = CommonOptions.Data();
        var command = new Command("list", "List deliveries, oldest first: id, mailbox, arrival (UTC), sender, subject, size");
        command.Options.Add(mailbox);
        command.Options.Add(json);
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            var summaries = await context.Store.ListMessagesAsync(context.ParseResult.GetValue(mailbox), context.CancellationToken).ConfigureAwait(false);
            if (context.ParseResult.GetValue(json))
            {
                context.Output.WriteLine(ToJson(summaries));
            }
            else
            {
                foreach (var summary in summaries)
                {
                    context.Output.WriteLine(ToLine(summary));
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show()
    {
        var id = new Argument<string>("id") { Description = "The message id, as `mail list` shows it" };
        var data = CommonOptions.Data();
        var command = new Command("show", "Copy a stored message, byte for byte, to standard output");
        command.Arguments.Add(id);
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            var messageId = context.ParseResult.GetValue(id)!;
            var message = await context.Store.OpenMessageAsync(messageId, context.CancellationToken).ConfigureAwait(false)
                ?? throw new AdminException(ExitCodes.DataError, $"no such message: {messageId}");
            // One entry per mailbox the message is in, so "who read what in support@" finds it.
            // (A scan of the deliveries: this is an admin command, not the receive path.)
            var mailboxes = (await context.Store.ListMessagesAsync(null, context.CancellationToken).ConfigureAwait(false))
                .Where(d => d.MessageId == messageId).Select(d => (string?)d.Mailbox).Distinct(StringComparer.Ordinal).DefaultIfEmpty(null);
            foreach (var mailbox in mailboxes)
            {
                context.Audit.Record(context.Event(AuditKinds.MailboxRead) with { MessageId = messageId, Mailbox = mailbox, Detail = "mail show" });
            }

            await using (message.ConfigureAwait(false))
            {
                await CopyBytesAsync(message, context.Output, context.CancellationToken).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// A message is bytes, not text (8BITMIME, stray non-UTF-8): it goes to the stream under the
    /// configured writer when there is one, otherwise straight to the process's standard output.
    /// </summary>
    private static async Task CopyBytesAsync(Stream message, TextWriter output, CancellationToken cancellationToken)
    {
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (output is StreamWriter { BaseStream: var stream })
        {
            await message.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        var standardOutput = Console.OpenStandardOutput();
        await using (standardOutput.ConfigureAwait(false))
        {
            await message.CopyToAsync(standardOutput, cancellationToken).ConfigureAwait(false);
            await standardOutput.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static string ToLine(MessageSummary summary) =>
        string.Join(
            '\t',
            summary.MessageId,
            summary.Mailbox,
            Iso8601(summary.ReceivedUtc),
            summary.Sender.Length == 0 ? "<>" : summary.Sender,
            OneLine(summary.Subject ?? string.Empty),
            summary.Size.ToString(CultureInfo.InvariantCulture));

    private static string ToJson(IReadOnlyList<MessageSummary> summaries)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartArray();
            foreach (var summary in summaries)
            {
                json.WriteStartObject();
                json.WriteString("id", summary.MessageId);
                json.WriteString("mailbox", summary.Mailbox);
                json.WriteString("received", Iso8601(summary.ReceivedUtc));
                json.WriteString("sender", summary.Sender.Length == 0 ? "<>" : summary.Sender);
                json.WriteString("subject", summary.Subject);
                json.WriteNumber("size", summary.Size);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Iso8601(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Subjects come from strangers: no control character may break the one-line-per-delivery layout or drive the terminal.</summary>
    private static string OneLine(string text) =>
        string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? ' ' : source[i];
            }
        });
}
