namespace Mailroom.Core.Audit;

/// <summary>
/// Where a stream's chain ends, as a writer finds it when it opens: the last complete entry of
/// the newest file that has one (a torn last line from a crash is passed over), and the head
/// anchor to compare it with. The chain survives restarts and rotation because the next writer
/// continues its sequence numbers and links from here.
/// </summary>
internal sealed record ChainEnd(ParsedEntry? Last, string? LastFile, AuditHead? Head, HeadProblem HeadProblem, int NewestDay, int NewestNumber)
{
    /// <summary>
    /// The newest file, when the next writer may go on appending to it: the chain's last entry is
    /// its last line, whole and ending in a line feed (nothing torn by a crash), and the head
    /// anchor agrees. Otherwise the writer starts a new file.
    /// </summary>
    public (string Path, long Length)? Continuable { get; init; }

    private const int TailChunk = 64 * 1024;

    // How many of the newest files (that hold entries) to compare for the chain's end.
    private const int NewestFilesCompared = 8;

    /// <summary>
    /// The chain's end is the entry with the highest sequence number among the newest files, not
    /// simply the last file by name: a clock that stepped back across midnight (before the writer
    /// kept days from going back) named a later file after an earlier day, and continuing from
    /// the file last by name would fork the chain.
    /// </summary>
    public static ChainEnd Find(AuditLogOptions options)
    {
        var files = AuditFileNames.ListStream(options.Folder, options.Stream);
        ParsedEntry? last = null;
        string? lastFile = null;
        var compared = 0;
        for (var i = files.Count - 1; i >= 0 && compared < NewestFilesCompared; i--)
        {
            if (LastEntry(files[i].Path) is not { } entry)
            {
                continue;
            }

            compared++;
            if (last is null || entry.Sequence > last.Sequence)
            {
                (last, lastFile) = (entry, files[i].Name);
            }
        }

        var head = AuditHead.Read(AuditFileNames.HeadPath(options.Folder, options.Stream), options.Stream, options.ChainKey, out var problem);
        var newest = files.Count > 0 ? files[^1] : null;
        return new ChainEnd(last, lastFile, head, problem, newest?.Day ?? 0, newest?.Number ?? 0)
        {
            Continuable = newest is not null && last is not null && lastFile == newest.Name && head is not null && head.Sequence == last.Sequence
                ? EndsCleanly(newest.Path)
                : null,
        };
    }

    /// <summary>The file's length when its last octet is a line feed, so appending starts a new line.</summary>
    private static (string, long)? EndsCleanly(string path)
    {
        using var stream = AuditLineReader.OpenForReading(path);
        var length = stream.Length;
        if (length == 0)
        {
            return null;
        }

        stream.Position = length - 1;
        return stream.ReadByte() == '\n' ? (path, length) : null;
    }

    /// <summary>The last complete entry of a file: read from its end, so a large file costs one small read.</summary>
    public static ParsedEntry? LastEntry(string path)
    {
        using (var stream = AuditLineReader.OpenForReading(path))
        {
            var length = stream.Length;
            for (var chunk = TailChunk; chunk <= AuditLineReader.MaxLineLength; chunk *= 2)
            {
                var size = (int)Math.Min(length, chunk);
                var buffer = new byte[size];
                stream.Position = length - size;
                stream.ReadExactly(buffer);
                var end = buffer.AsSpan().LastIndexOf((byte)'\n');
                var start = end < 0 ? -1 : buffer.AsSpan(0, end).LastIndexOf((byte)'\n') + 1;
                if (start > 0 || (start == 0 && size == length))
                {
                    if (AuditEntryParser.TryParse(buffer.AsMemory(start, end - start), out var entry, out _))
                    {
                        return entry;
                    }

                    break;
                }

                if (size == length)
                {
                    break;
                }
            }
        }

        // Something odd at the end (a blank or damaged line): walk the file and keep the last entry that reads.
        ParsedEntry? last = null;
        foreach (var line in AuditLineReader.Read(path))
        {
            if (line.Terminated && !line.TooLong && AuditEntryParser.TryParse(line.Bytes, out var entry, out _))
            {
                last = entry;
            }
        }

        return last;
    }
}
