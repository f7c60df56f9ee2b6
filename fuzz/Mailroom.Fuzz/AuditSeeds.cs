using Mailroom.Core.Audit;
using Mailroom.Fuzz.Targets;

namespace Mailroom.Fuzz;

/// <summary>
/// Writes real audit logs (in the clear, Caesar and AES-GCM, chained with the audit-file target's
/// key) as seeds: audit-file gets each file, audit-line its first lines. Run once; the seeds are committed.
/// </summary>
internal static class AuditSeeds
{
    public static async Task WriteAsync(string corpus)
    {
        var work = Path.Combine(Path.GetTempPath(), "mailroom-fuzz-seeds-" + Guid.NewGuid().ToString("N"));
        try
        {
            IAuditCipher[] ciphers = [NoAuditCipher.Instance, new CaesarAuditCipher(3), new AesGcmAuditCipher(AuditFileTarget.AesKey)];
            foreach (var cipher in ciphers)
            {
                var folder = Path.Combine(work, cipher.Name);
                await using (var log = await FileAuditLog.OpenAsync(new AuditLogOptions { Folder = folder, Node = "node-a", ChainKey = AuditFileTarget.ChainKey, Cipher = cipher }))
                {
                    log.Record(new AuditEvent { Kind = "smtp.command", Outcome = AuditOutcome.Ok, Session = "s1", Client = "192.0.2.1:40000", Command = "MAIL", Arguments = "FROM:<a@example.org>", Reply = "250 2.1.0" });
                    log.Record(new AuditEvent { Kind = "smtp.delivery", Outcome = AuditOutcome.Deferred, User = "bob@example.com", Size = 1234, Recipients = ["x@example.com", "y@example.com"], Detail = "é \"quoted\"" });
                }

                var file = Directory.GetFiles(folder, "*.jsonl").Order(StringComparer.Ordinal).First();
                var bytes = await File.ReadAllBytesAsync(file);
                Write(Path.Combine(corpus, "audit-file", cipher.Name + ".jsonl"), bytes);
                var lines = bytes.AsSpan().Split((byte)'\n');
                var n = 0;
                foreach (var range in lines)
                {
                    if (n < 3 && !bytes.AsSpan()[range].IsEmpty)
                    {
                        Write(Path.Combine(corpus, "audit-line", $"{cipher.Name}-{++n}.jsonl"), bytes[range]);
                    }
                }
            }
        }
        finally
        {
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    /// <summary>Every target's first byte is its control byte: 'A' here.</summary>
    private static void Write(string path, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [(byte)'A', .. bytes]);
    }
}
