using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Mailroom.Core.Audit;

/// <summary>
/// The head anchor, <c>&lt;stream&gt;.head</c>: the last entry known to be on disk, sealed with the
/// chain key. The chain alone cannot show that entries were cut from its end (what is left is a
/// valid chain), so the writer records where the end is, and the verifier and the next writer
/// compare. It names only entries already fsynced, so a crash never makes it claim entries the
/// disk lost; after a crash it may lag behind, which is harmless.
/// <para>
/// It is always <see cref="Size"/> octets (the JSON padded with spaces), overwritten in place:
/// one write within one disk sector, so a crash leaves the old anchor or the new one, and no new
/// file (and inode) per fsync.
/// </para>
/// </summary>
internal sealed record AuditHead(long Sequence, byte[] Mac)
{
    public const int Size = 256;

    public byte[] Serialize(string stream, byte[] chainKey)
    {
        var mac = Convert.ToBase64String(Mac);
        var json = string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"seq\":{Sequence},\"mac\":\"{mac}\",\"hmac\":\"{Convert.ToBase64String(Seal(stream, Sequence, mac, chainKey))}\"}}");
        return Encoding.UTF8.GetBytes(json.PadRight(Size - 1) + "\n");
    }

    /// <summary>Reads a head anchor: null with a problem when it is missing, unreadable or its seal does not match.</summary>
    public static AuditHead? Read(string path, string stream, byte[] chainKey, out HeadProblem problem)
    {
        byte[] bytes;
        try
        {
            if (!File.Exists(path))
            {
                problem = HeadProblem.Missing;
                return null;
            }

            // The writer keeps the file open for writing while it runs (FileShare.Read): a reader
            // must share writing too, or Windows refuses it.
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                if (file.Length > 64 * 1024)
                {
                    // A head anchor is 256 octets; a file this size is not one.
                    problem = HeadProblem.Unreadable;
                    return null;
                }

                bytes = new byte[file.Length];
                file.ReadExactly(bytes);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problem = HeadProblem.Unreadable;
            return null;
        }

        if (!TryParse(bytes, out var sequence, out var mac, out var macText, out var seal))
        {
            problem = HeadProblem.Unreadable;
            return null;
        }

        if (!CryptographicOperations.FixedTimeEquals(seal, Seal(stream, sequence, macText, chainKey)))
        {
            problem = HeadProblem.Forged;
            return null;
        }

        problem = HeadProblem.None;
        return new AuditHead(sequence, mac);
    }

    // The stream is sealed too, so one stream's head cannot stand in for another's.
    private static byte[] Seal(string stream, long sequence, string mac, byte[] chainKey) =>
        HMACSHA256.HashData(chainKey, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{stream}|{sequence}|{mac}")));

    private static bool TryParse(byte[] bytes, out long sequence, out byte[] mac, out string macText, out byte[] seal)
    {
        sequence = 0;
        mac = seal = [];
        macText = "";
        try
        {
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("seq", out var seq) || seq.ValueKind != JsonValueKind.Number || !seq.TryGetInt64(out sequence)
                || !root.TryGetProperty("mac", out var macElement) || macElement.ValueKind != JsonValueKind.String
                || !macElement.TryGetBytesFromBase64(out var macBytes) || macBytes.Length != AuditFormat.MacSize
                || !root.TryGetProperty("hmac", out var hmac) || hmac.ValueKind != JsonValueKind.String
                || !hmac.TryGetBytesFromBase64(out var sealBytes))
            {
                return false;
            }

            mac = macBytes;
            macText = macElement.GetString()!;
            seal = sealBytes;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

/// <summary>Why a head anchor could not be used.</summary>
internal enum HeadProblem
{
    None,

    /// <summary>There is none: a new log, or it was deleted.</summary>
    Missing,

    /// <summary>It cannot be read or parsed: a crash while it was replaced can leave it empty.</summary>
    Unreadable,

    /// <summary>It parses, but its seal does not match: someone changed it.</summary>
    Forged,
}
