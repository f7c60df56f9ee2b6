using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Mailroom.Core.Audit;

/// <summary>
/// Turns an event into one line of the log, in the one format the reader and verifier expect:
/// <c>{"seq":N,"ts":"…","node":"…",&lt;event fields, or cipher, key and data&gt;,"prev":"…","mac":"…"}\n</c>.
/// The mac is HMAC-SHA256 under the chain key over the line's exact bytes up to
/// <c>,"mac":"</c>; "prev" (the previous entry's mac) lies inside those bytes, so each entry seals
/// the one before it, and a verifier needs neither a canonical form nor the decryption key.
/// Not thread-safe: the writer's one loop owns it.
/// </summary>
internal sealed class AuditEntryWriter(byte[] chainKey, string node, IAuditCipher cipher) : IDisposable
{
    // Relaxed escaping keeps "<redacted>", '+' and non-ASCII text readable for jq and people; the
    // log is never embedded in HTML, and quotes, backslashes and control characters (so every line
    // break) are still escaped, so one entry stays one line.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ArrayBufferWriter<byte> _line = new(1024);
    private readonly ArrayBufferWriter<byte> _plaintext = new(1024);
    private readonly Utf8JsonWriter _lineWriter = new(Stream.Null, WriterOptions);
    private readonly Utf8JsonWriter _plaintextWriter = new(Stream.Null, WriterOptions);

    // One keyed HMAC for the writer's life: HashData would set the key up again for every entry.
    private readonly IncrementalHash _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, chainKey);

    /// <summary>Serialises one entry; <paramref name="inClear"/> keeps the log's own entries readable without a key.</summary>
    public byte[] Write(long sequence, DateTimeOffset timestamp, AuditEvent entry, ReadOnlySpan<byte> previousMac, bool inClear, out byte[] mac)
    {
        var ts = AuditFormat.FormatTimestamp(timestamp);
        _line.ResetWrittenCount();
        _lineWriter.Reset(_line);
        var w = _lineWriter;
        w.WriteStartObject();
        w.WriteNumber(AuditFormat.Seq, sequence);

        // ts and node stay in the clear even in an encrypted log, so logs from several nodes merge
        // and filter by time without the key; the cipher's associated data binds them to the data.
        w.WriteString(AuditFormat.Ts, ts);
        w.WriteString(AuditFormat.Node, node);
        if (inClear || cipher is NoAuditCipher)
        {
            WriteEventFields(w, entry);
        }
        else
        {
            w.WriteString(AuditFormat.Cipher, cipher.Name);
            w.WriteString(AuditFormat.Key, cipher.KeyId);
            w.WriteBase64String(AuditFormat.Data, cipher.Encrypt(EventJson(entry), AuditFormat.AssociatedData(sequence, ts, node)));
        }

        w.WriteBase64String(AuditFormat.Prev, previousMac);
        w.Flush();
        _hmac.AppendData(_line.WrittenSpan);
        mac = _hmac.GetHashAndReset();
        w.WriteBase64String(AuditFormat.Mac, mac);
        w.WriteEndObject();
        w.Flush();
        var bytes = new byte[_line.WrittenCount + 1];
        _line.WrittenSpan.CopyTo(bytes);
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    public void Dispose()
    {
        _lineWriter.Dispose();
        _plaintextWriter.Dispose();
        _hmac.Dispose();
    }

    private ReadOnlySpan<byte> EventJson(AuditEvent entry)
    {
        _plaintext.ResetWrittenCount();
        _plaintextWriter.Reset(_plaintext);
        _plaintextWriter.WriteStartObject();
        WriteEventFields(_plaintextWriter, entry);
        _plaintextWriter.WriteEndObject();
        _plaintextWriter.Flush();
        return _plaintext.WrittenSpan;
    }

    private static void WriteEventFields(Utf8JsonWriter w, AuditEvent entry)
    {
        w.WriteString(AuditFormat.Kind, Clean(entry.Kind));
        w.WriteString(AuditFormat.Outcome, AuditFormat.FormatOutcome(entry.Outcome));
        WriteOptional(w, AuditFormat.Session, entry.Session);
        WriteOptional(w, AuditFormat.Client, entry.Client);
        WriteOptional(w, AuditFormat.Listener, entry.Listener);
        WriteOptional(w, AuditFormat.User, entry.User);
        WriteOptional(w, AuditFormat.Command, entry.Command);
        WriteOptional(w, AuditFormat.Args, entry.Arguments);
        WriteOptional(w, AuditFormat.Reply, entry.Reply);
        WriteOptional(w, AuditFormat.Mailbox, entry.Mailbox);
        WriteOptional(w, AuditFormat.Message, entry.MessageId);
        if (entry.Size is { } size)
        {
            w.WriteNumber(AuditFormat.Size, size);
        }

        if (entry.Recipients is { } recipients)
        {
            w.WriteStartArray(AuditFormat.Rcpt);
            foreach (var recipient in recipients)
            {
                w.WriteStringValue(Clean(recipient ?? ""));
            }

            w.WriteEndArray();
        }

        WriteOptional(w, AuditFormat.Detail, entry.Detail);
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, Clean(value));
        }
    }

    // Utf8JsonWriter throws on a lone surrogate, and the writer's loop must never throw for an
    // event's text (a client can put anything in a command line), so those become U+FFFD.
    private static string Clean(string value) =>
        value.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0 ? value : Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(value));
}

/// <summary>The field names and small formats every part of the audit log agrees on.</summary>
internal static class AuditFormat
{
    public const string Seq = "seq";
    public const string Ts = "ts";
    public const string Node = "node";
    public const string Kind = "kind";
    public const string Outcome = "outcome";
    public const string Session = "session";
    public const string Client = "client";
    public const string Listener = "listener";
    public const string User = "user";
    public const string Command = "command";
    public const string Args = "args";
    public const string Reply = "reply";
    public const string Mailbox = "mailbox";
    public const string Message = "message";
    public const string Size = "size";
    public const string Rcpt = "rcpt";
    public const string Detail = "detail";
    public const string Cipher = "cipher";
    public const string Key = "key";
    public const string Data = "data";
    public const string Prev = "prev";
    public const string Mac = "mac";

    public const int MacSize = 32;

    /// <summary>The bytes that end a line's authenticated part.</summary>
    public static ReadOnlySpan<byte> MacMarker => ",\"mac\":\""u8;

    private const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    /// <summary>
    /// <see cref="TimestampFormat"/>, written digit by digit: every entry has one, and the
    /// custom-format path of <see cref="DateTime.ToString(string, IFormatProvider)"/> costs more
    /// than the rest of the line.
    /// </summary>
    public static string FormatTimestamp(DateTimeOffset timestamp) =>
        string.Create(24, timestamp.UtcDateTime, static (chars, t) =>
        {
            Digits(chars[..4], t.Year);
            chars[4] = '-';
            Digits(chars.Slice(5, 2), t.Month);
            chars[7] = '-';
            Digits(chars.Slice(8, 2), t.Day);
            chars[10] = 'T';
            Digits(chars.Slice(11, 2), t.Hour);
            chars[13] = ':';
            Digits(chars.Slice(14, 2), t.Minute);
            chars[16] = ':';
            Digits(chars.Slice(17, 2), t.Second);
            chars[19] = '.';
            Digits(chars.Slice(20, 3), t.Millisecond);
            chars[23] = 'Z';
        });

    private static void Digits(Span<char> into, int value)
    {
        for (var i = into.Length - 1; i >= 0; i--)
        {
            into[i] = (char)('0' + (value % 10));
            value /= 10;
        }
    }

    public static bool TryParseTimestamp(string text, out DateTimeOffset timestamp) =>
        DateTimeOffset.TryParseExact(text, TimestampFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out timestamp);

    public static string FormatOutcome(AuditOutcome outcome) => outcome switch
    {
        AuditOutcome.Ok => "ok",
        AuditOutcome.Deferred => "deferred",
        AuditOutcome.Refused => "refused",
        _ => outcome.ToString().ToLowerInvariant(),
    };

    public static bool TryParseOutcome(string? text, out AuditOutcome outcome)
    {
        (var known, outcome) = text switch
        {
            "ok" => (true, AuditOutcome.Ok),
            "deferred" => (true, AuditOutcome.Deferred),
            "refused" => (true, AuditOutcome.Refused),
            _ => (false, AuditOutcome.Ok),
        };
        return known;
    }

    /// <summary>What an encrypted entry's data is bound to, so it cannot be moved to another entry or node.</summary>
    public static byte[] AssociatedData(long sequence, string timestamp, string node) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{sequence}|{timestamp}|{node}"));

    /// <summary>
    /// What the first entry of a stream links to: HMAC-SHA256(chain key, "genesis|" + stream), so
    /// the stream's name is in the chain and files moved from one stream to another do not verify
    /// as the start of it.
    /// </summary>
    public static byte[] GenesisMac(byte[] chainKey, string stream) =>
        HMACSHA256.HashData(chainKey, Encoding.UTF8.GetBytes("genesis|" + stream));
}
