using System.Security.Cryptography;

namespace Mailroom.Core.Audit;

/// <summary>
/// Reads audit logs back for <c>mailroom audit show</c> (issue 5, item 4): every stream in the
/// given folders and files, decrypted with whatever keys the keyring holds, filtered, and merged
/// into one timeline across files, streams and nodes. It streams: each stream is read one line at
/// a time and only the next entry of each is held, so a year of logs needs no more memory than a
/// minute of them. Reading does not verify the chain; <see cref="AuditVerifier"/> does.
/// </summary>
public static class AuditReader
{
    /// <summary>
    /// The entries in timestamp order (ties: node, stream, sequence). Enumerate it once; the files
    /// are opened as the enumeration reaches them and closed when it ends.
    /// </summary>
    /// <exception cref="AuditLogException">A path does not exist (when enumeration starts).</exception>
    public static IEnumerable<AuditRecord> Read(IEnumerable<string> paths, AuditKeyring keyring, AuditFilter? filter = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(keyring);
        return Merge([.. paths], keyring, filter);
    }

    private static IEnumerable<AuditRecord> Merge(List<string> paths, AuditKeyring keyring, AuditFilter? filter)
    {
        var streams = AuditFileNames.Group(paths);
        var sources = new List<IEnumerator<AuditRecord>>(streams.Count);
        try
        {
            var next = new PriorityQueue<int, (AuditRecord Record, int Source)>(MergeOrder.Instance);
            foreach (var stream in streams)
            {
                var records = ReadStream(stream, keyring);
                var source = (filter is null ? records : records.Where(filter.Matches)).GetEnumerator();
                sources.Add(source);
                if (source.MoveNext())
                {
                    next.Enqueue(sources.Count - 1, (source.Current, sources.Count - 1));
                }
            }

            while (next.TryDequeue(out var index, out var head))
            {
                yield return head.Record;
                if (sources[index].MoveNext())
                {
                    next.Enqueue(index, (sources[index].Current, index));
                }
            }
        }
        finally
        {
            foreach (var source in sources)
            {
                source.Dispose();
            }
        }
    }

    private static IEnumerable<AuditRecord> ReadStream(AuditStreamFiles stream, AuditKeyring keyring)
    {
        var recent = new RecentMacs();
        long lastSequence = 0;
        var lastTime = DateTimeOffset.MinValue;
        var lastNode = "";
        foreach (var file in stream.Files)
        {
            foreach (var line in AuditLineReader.Read(file.Path))
            {
                if (!line.Terminated && !line.TooLong)
                {
                    continue; // a torn last line from a crash: never a whole entry
                }

                ParsedEntry? entry = null;
                var problem = "it is too long";
                if (line.TooLong || !AuditEntryParser.TryParse(line.Bytes, out entry, out problem))
                {
                    yield return new AuditRecord(0, lastTime, lastNode, stream.Stream, null, file.Path, line.Number, "not an audit entry: " + problem);
                    continue;
                }

                if (entry!.Sequence <= lastSequence && recent.Matches(entry.Sequence, entry.Mac))
                {
                    continue; // an identical copy, written again after a failed write
                }

                recent.Add(entry.Sequence, entry.Mac);
                lastSequence = Math.Max(lastSequence, entry.Sequence);
                (lastTime, lastNode) = (entry.Timestamp, entry.Node);
                var (auditEvent, unreadable) = Decode(entry, keyring);
                yield return new AuditRecord(entry.Sequence, entry.Timestamp, entry.Node, stream.Stream, auditEvent, file.Path, line.Number, unreadable);
            }
        }
    }

    private static (AuditEvent? Event, string? Problem) Decode(ParsedEntry entry, AuditKeyring keyring)
    {
        if (entry.Event is not null)
        {
            return (entry.Event, null);
        }

        if (!keyring.TryGet(entry.Cipher!, entry.KeyId!, out var cipher))
        {
            return (null, $"no key {entry.KeyId} for {entry.Cipher}");
        }

        byte[] plaintext;
        try
        {
            plaintext = cipher.Decrypt(entry.Data, AuditFormat.AssociatedData(entry.Sequence, entry.TimestampText, entry.Node));
        }
        catch (Exception ex) when (ex is AuditLogException or CryptographicException)
        {
            return (null, ex.Message);
        }

        return AuditEntryParser.TryParseEvent(plaintext, entry.Timestamp, out var decoded, out var problem)
            ? (decoded, null)
            : (null, problem);
    }

    private sealed class MergeOrder : IComparer<(AuditRecord Record, int Source)>
    {
        public static readonly MergeOrder Instance = new();

        public int Compare((AuditRecord Record, int Source) x, (AuditRecord Record, int Source) y)
        {
            var order = x.Record.Timestamp.CompareTo(y.Record.Timestamp);
            order = order != 0 ? order : string.CompareOrdinal(x.Record.Node, y.Record.Node);
            order = order != 0 ? order : string.CompareOrdinal(x.Record.Stream, y.Record.Stream);
            order = order != 0 ? order : x.Record.Sequence.CompareTo(y.Record.Sequence);
            return order != 0 ? order : x.Source.CompareTo(y.Source);
        }
    }
}
