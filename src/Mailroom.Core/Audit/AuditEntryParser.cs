using System.Security.Cryptography;
using System.Text.Json;

namespace Mailroom.Core.Audit;

/// <summary>One line of the log, read back: what every entry carries in the clear, and the event when it is in the clear too.</summary>
internal sealed class ParsedEntry
{
    public required long Sequence { get; init; }

    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>The timestamp exactly as written: part of an encrypted entry's associated data.</summary>
    public required string TimestampText { get; init; }

    public required string Node { get; init; }

    /// <summary>Null for an entry in the clear.</summary>
    public string? Cipher { get; init; }

    public string? KeyId { get; init; }

    public byte[]? Data { get; init; }

    /// <summary>The event, when the entry is in the clear.</summary>
    public AuditEvent? Event { get; init; }

    public required byte[] Prev { get; init; }

    public required byte[] Mac { get; init; }

    /// <summary>How many bytes at the start of the line the mac covers.</summary>
    public required int AuthenticatedLength { get; init; }

    /// <summary>Whether the mac matches the line under the chain key.</summary>
    public bool HasValidMac(ReadOnlySpan<byte> line, byte[] chainKey)
    {
        Span<byte> expected = stackalloc byte[AuditFormat.MacSize];
        HMACSHA256.HashData(chainKey, line[..AuthenticatedLength], expected);
        return CryptographicOperations.FixedTimeEquals(expected, Mac);
    }
}

/// <summary>Reads lines in the format <see cref="AuditEntryWriter"/> writes; every failure is a sentence for the admin.</summary>
internal static class AuditEntryParser
{
    // ,"mac":" then 44 base64 characters, then "}
    private const int MacTailLength = 8 + 44 + 2;

    public static bool TryParse(ReadOnlyMemory<byte> line, out ParsedEntry? entry, out string problem)
    {
        entry = null;
        var authenticated = line.Span.LastIndexOf(AuditFormat.MacMarker);
        if (authenticated < 0 || line.Length - authenticated != MacTailLength)
        {
            problem = "it does not end with its hash (\"mac\")";
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(line);
            return TryRead(document.RootElement, authenticated, out entry, out problem);
        }
        catch (JsonException ex)
        {
            problem = "it is not valid JSON (" + ex.Message + ")";
            return false;
        }
        catch (InvalidOperationException)
        {
            // JsonDocument checks the structure but not the text inside strings: GetString throws
            // on invalid UTF-8 (a flipped bit) or an escaped lone surrogate ("\ud800").
            problem = "it holds text that is not valid UTF-8 or an invalid \\u escape";
            return false;
        }
    }

    /// <summary>Reads an encrypted entry's decrypted fields.</summary>
    public static bool TryParseEvent(ReadOnlyMemory<byte> json, DateTimeOffset timestamp, out AuditEvent? entry, out string problem)
    {
        entry = null;
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                problem = "its decrypted data is not a JSON object";
                return false;
            }

            return TryReadEvent(document.RootElement, timestamp, out entry, out problem);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            problem = "its decrypted data is not valid JSON (a wrong key?)";
            return false;
        }
    }

    private static bool TryRead(JsonElement root, int authenticated, out ParsedEntry? entry, out string problem)
    {
        entry = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            problem = "it is not a JSON object";
            return false;
        }

        if (!TryGetLong(root, AuditFormat.Seq, out var sequence) || sequence < 1
            || !TryGetString(root, AuditFormat.Ts, out var ts) || !AuditFormat.TryParseTimestamp(ts!, out var timestamp)
            || !TryGetString(root, AuditFormat.Node, out var node)
            || !TryGetMac(root, AuditFormat.Prev, out var prev)
            || !TryGetMac(root, AuditFormat.Mac, out var mac))
        {
            problem = "it lacks a valid seq, ts, node, prev or mac";
            return false;
        }

        AuditEvent? clear = null;
        string? cipher = null, keyId = null;
        byte[]? data = null;
        if (root.TryGetProperty(AuditFormat.Cipher, out _))
        {
            if (!TryGetString(root, AuditFormat.Cipher, out cipher) || !TryGetString(root, AuditFormat.Key, out keyId)
                || !root.TryGetProperty(AuditFormat.Data, out var dataElement) || !dataElement.TryGetBytesFromBase64(out data))
            {
                problem = "its cipher, key or data is missing or invalid";
                return false;
            }
        }
        else if (!TryReadEvent(root, timestamp, out clear, out problem))
        {
            return false;
        }

        entry = new ParsedEntry
        {
            Sequence = sequence,
            Timestamp = timestamp,
            TimestampText = ts!,
            Node = node!,
            Cipher = cipher,
            KeyId = keyId,
            Data = data,
            Event = clear,
            Prev = prev,
            Mac = mac,
            AuthenticatedLength = authenticated,
        };
        problem = "";
        return true;
    }

    private static bool TryReadEvent(JsonElement o, DateTimeOffset timestamp, out AuditEvent? entry, out string problem)
    {
        entry = null;
        if (!TryGetString(o, AuditFormat.Kind, out var kind) || !TryGetString(o, AuditFormat.Outcome, out var outcomeText)
            || !AuditFormat.TryParseOutcome(outcomeText, out var outcome))
        {
            problem = "it lacks a valid kind or outcome";
            return false;
        }

        var ok = TryGetOptional(o, AuditFormat.Session, out var session)
            & TryGetOptional(o, AuditFormat.Client, out var client)
            & TryGetOptional(o, AuditFormat.Listener, out var listener)
            & TryGetOptional(o, AuditFormat.User, out var user)
            & TryGetOptional(o, AuditFormat.Command, out var command)
            & TryGetOptional(o, AuditFormat.Args, out var args)
            & TryGetOptional(o, AuditFormat.Reply, out var reply)
            & TryGetOptional(o, AuditFormat.Mailbox, out var mailbox)
            & TryGetOptional(o, AuditFormat.Message, out var message)
            & TryGetOptional(o, AuditFormat.Detail, out var detail)
            & TryGetSize(o, out var size)
            & TryGetRecipients(o, out var recipients);
        if (!ok)
        {
            problem = "one of its fields has the wrong type";
            return false;
        }

        entry = new AuditEvent
        {
            Kind = kind!,
            Outcome = outcome,
            Timestamp = timestamp,
            Session = session,
            Client = client,
            Listener = listener,
            User = user,
            Command = command,
            Arguments = args,
            Reply = reply,
            Mailbox = mailbox,
            MessageId = message,
            Size = size,
            Recipients = recipients,
            Detail = detail,
        };
        problem = "";
        return true;
    }

    private static bool TryGetLong(JsonElement o, string name, out long value)
    {
        value = 0;
        return o.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out value);
    }

    private static bool TryGetString(JsonElement o, string name, out string? value)
    {
        value = o.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.String ? element.GetString() : null;
        return value is not null;
    }

    private static bool TryGetOptional(JsonElement o, string name, out string? value)
    {
        value = null;
        if (!o.TryGetProperty(name, out var element))
        {
            return true;
        }

        value = element.ValueKind == JsonValueKind.String ? element.GetString() : null;
        return value is not null;
    }

    private static bool TryGetMac(JsonElement o, string name, out byte[] mac)
    {
        mac = [];
        if (o.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.String
            && element.TryGetBytesFromBase64(out var bytes) && bytes.Length == AuditFormat.MacSize)
        {
            mac = bytes;
            return true;
        }

        return false;
    }

    private static bool TryGetSize(JsonElement o, out long? size)
    {
        size = null;
        if (!o.TryGetProperty(AuditFormat.Size, out var element))
        {
            return true;
        }

        if (element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out var value))
        {
            size = value;
            return true;
        }

        return false;
    }

    private static bool TryGetRecipients(JsonElement o, out IReadOnlyList<string>? recipients)
    {
        recipients = null;
        if (!o.TryGetProperty(AuditFormat.Rcpt, out var element))
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        var list = new List<string>(element.GetArrayLength());
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            list.Add(item.GetString()!);
        }

        recipients = list;
        return true;
    }
}
