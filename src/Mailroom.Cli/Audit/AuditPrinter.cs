using System.Globalization;
using System.Text;
using System.Text.Json;
using Mailroom.Core.Audit;

namespace Mailroom.Cli.Audit;

/// <summary>How <c>mailroom audit</c> prints entries and verdicts: one line each, fields named, nothing a terminal would act on.</summary>
internal static class AuditPrinter
{
    /// <summary>
    /// <c>2026-11-28T14:03:11.207Z mx1 mailbox.delete ok user=alice@example.com client=192.0.2.7:50112 mailbox=support@example.com message=01J...</c>:
    /// the fields that answer "who did what to which mailbox, from where, and when", then the rest.
    /// </summary>
    public static string Line(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var line = new StringBuilder();
        line.Append(Time(record.Timestamp)).Append(' ').Append(Clean(record.Node));
        if (record.Event is not { } e)
        {
            return line.Append(CultureInfo.InvariantCulture, $" entry {record.Sequence} of {record.Stream} cannot be read: {record.Problem}").ToString();
        }

        line.Append(' ').Append(Clean(e.Kind)).Append(' ').Append(Outcome(e.Outcome));
        Field(line, "user", e.User);
        Field(line, "client", e.Client);
        Field(line, "listener", e.Listener);
        Field(line, "session", e.Session);
        Field(line, "mailbox", e.Mailbox);
        Field(line, "message", e.MessageId);
        Field(line, "command", e.Command is null ? null : e.Arguments is null ? e.Command : e.Command + " " + e.Arguments);
        Field(line, "reply", e.Reply);
        Field(line, "size", e.Size?.ToString(CultureInfo.InvariantCulture));
        Field(line, "rcpt", e.Recipients is null ? null : string.Join(',', e.Recipients));
        Field(line, "detail", e.Detail);
        return line.ToString();
    }

    /// <summary>One decrypted entry as a JSON object, for jq.</summary>
    public static string Json(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("seq", record.Sequence);
            json.WriteString("ts", Time(record.Timestamp));
            json.WriteString("node", record.Node);
            json.WriteString("stream", record.Stream);
            if (record.Event is not { } e)
            {
                json.WriteString("problem", record.Problem);
            }
            else
            {
                json.WriteString("kind", e.Kind);
                json.WriteString("outcome", Outcome(e.Outcome));
                Write(json, "session", e.Session);
                Write(json, "client", e.Client);
                Write(json, "listener", e.Listener);
                Write(json, "user", e.User);
                Write(json, "command", e.Command);
                Write(json, "args", e.Arguments);
                Write(json, "reply", e.Reply);
                Write(json, "mailbox", e.Mailbox);
                Write(json, "message", e.MessageId);
                if (e.Size is { } size)
                {
                    json.WriteNumber("size", size);
                }

                if (e.Recipients is { } recipients)
                {
                    json.WriteStartArray("rcpt");
                    foreach (var recipient in recipients)
                    {
                        json.WriteStringValue(recipient);
                    }

                    json.WriteEndArray();
                }

                Write(json, "detail", e.Detail);
            }

            json.WriteString("file", record.File);
            json.WriteNumber("line", record.Line);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary><c>DATA/audit server: 1234 entries in 3 files (1 to 1234): intact</c>, or where it breaks and how.</summary>
    public static string Verification(StreamVerification stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var head = string.Create(CultureInfo.InvariantCulture, $"{Clean(stream.Folder)} {Clean(stream.Stream)}: {stream.Entries} entries in {stream.Files} file(s) ({stream.FirstSequence} to {stream.LastSequence})");
        if (stream.Break is not { } broken)
        {
            return head + ": intact";
        }

        var at = broken.Sequence is { } seq ? string.Create(CultureInfo.InvariantCulture, $", entry {seq}") : string.Empty;
        return string.Create(CultureInfo.InvariantCulture, $"{head}: BROKEN ({broken.Kind.ToString().ToLowerInvariant()}) at {Clean(broken.File)} line {broken.Line}{at}: {Clean(broken.Message)}");
    }

    public static string Outcome(AuditOutcome outcome) => outcome switch
    {
        AuditOutcome.Ok => "ok",
        AuditOutcome.Deferred => "deferred",
        _ => "refused",
    };

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static void Field(StringBuilder line, string name, string? value)
    {
        if (value is null)
        {
            return;
        }

        line.Append(' ').Append(name).Append('=');
        var clean = Clean(value);
        // Quoted, with quotes and backslashes escaped, whenever it could be read as more than one
        // field: a client-chosen name like `x" user=admin` must not forge a field in the text view.
        if (clean.Length == 0 || clean.AsSpan().IndexOfAny(" \"\\=") >= 0)
        {
            line.Append('"').Append(clean.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
        }
        else
        {
            line.Append(clean);
        }
    }

    private static void Write(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    /// <summary>Entries carry what clients sent: no control character may reach the terminal.</summary>
    public static string Clean(string text) =>
        string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
}
