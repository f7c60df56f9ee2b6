using System.Globalization;

namespace Mailroom.Core.Audit;

/// <summary>
/// Checks the chain of every stream (issue 5, item 2): each entry's mac under the chain key, its
/// sequence number and its link to the entry before, across files and restarts, and the end of
/// the log against the head anchor. It needs the chain key but no decryption key: the mac covers
/// the encrypted bytes as written, and the log's own entries (audit.start, audit.gap) are in the
/// clear. It stops at a stream's first break and says where it is and what it looks like.
/// </summary>
public static class AuditVerifier
{
    /// <summary>Verifies every stream found in the folders and files.</summary>
    /// <exception cref="AuditLogException">A path does not exist.</exception>
    public static AuditVerification Verify(IEnumerable<string> paths, byte[] chainKey)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(chainKey);
        if (chainKey.Length < AuditKeys.KeySize)
        {
            throw new ArgumentException($"The audit chain key must have at least {AuditKeys.KeySize} bytes.", nameof(chainKey));
        }

        return Verify(paths, chainKey, listed: null);
    }

    /// <summary>Verifies, with <paramref name="listed"/> called once the log files are listed, so a test can write between the listing and the reading.</summary>
    internal static AuditVerification Verify(IEnumerable<string> paths, byte[] chainKey, Action? listed)
    {
        var given = paths.ToList();
        var anchors = AuditAnchors.Read(given, chainKey);
        var streams = AuditFileNames.Group(given);
        listed?.Invoke();
        var checks = streams.Select(s => new ChainCheck(s, chainKey, anchors.Head(s.Folder, s.Stream)).Run());
        var orphans = Orphans(given, streams, anchors);
        return new AuditVerification([.. checks.Concat(orphans).OrderBy(s => s.Folder, StringComparer.Ordinal).ThenBy(s => s.Stream, StringComparer.Ordinal)]);
    }

    /// <summary>
    /// Streams of the given folders that have a head anchor or a lock file but no log files: the
    /// whole stream was deleted, which its chain alone cannot show. A head anchor naming entry 0
    /// is only a writer that opened and never wrote its first entry (a full disk).
    /// </summary>
    private static IEnumerable<StreamVerification> Orphans(List<string> paths, List<AuditStreamFiles> streams, AuditAnchors anchors)
    {
        foreach (var folder in paths.Select(Path.GetFullPath).Where(Directory.Exists).Distinct(StringComparer.Ordinal))
        {
            var known = streams.Where(s => s.Folder == folder).Select(s => s.Stream).ToHashSet(StringComparer.Ordinal);
            foreach (var stream in anchors.StreamsIn(folder).Where(s => !known.Contains(s)))
            {
                var head = anchors.Head(folder, stream);
                if (head.Head is { Sequence: 0 })
                {
                    yield return new StreamVerification(folder, stream, 0, 0, 0, 0, null, [$"stream {stream} was opened but never wrote an entry"]);
                    continue;
                }

                var (what, at) = head.Exists ? ("head anchor", head.Path) : ("lock file", AuditFileNames.LockPath(folder, stream));
                yield return new StreamVerification(folder, stream, 0, 0, 0, 0, new AuditBreak(at, 1, null, AuditBreakKind.Removed, $"the log files of stream {stream} are gone but its {what} remains"), []);
            }
        }
    }
}

/// <summary>One line of a stream as the verifier sees it.</summary>
internal sealed record ChainItem(AuditLogFile File, int Line, ChainItemKind Kind, ParsedEntry? Entry = null, bool MacValid = false, string? Problem = null, bool FirstInFile = false)
{
    public static ChainItem FileStart(AuditLogFile file) => new(file, 0, ChainItemKind.FileStart);
}

internal enum ChainItemKind
{
    FileStart,
    Entry,
    Torn,
    Malformed,
}

/// <summary>The check of one stream.</summary>
internal sealed class ChainCheck(AuditStreamFiles stream, byte[] chainKey, HeadReading headReading)
{
    // How far ahead to look for a missing entry before calling it removed rather than moved.
    private const int LookAhead = 256;

    private readonly List<string> _notes = [];
    private readonly RecentMacs _recent = new();
    private long _entries;
    private int _files;
    private long _first;
    private long _last;
    private byte[]? _lastMac;
    private string? _lastKind;
    private ChainItem? _lastItem;
    private (ChainItem At, long From, long To)? _replay;

    public StreamVerification Run()
    {
        using var items = new Lookahead<ChainItem>(Items().GetEnumerator());
        var broken = Walk(items) ?? CheckEnd();
        return new StreamVerification(stream.Folder, stream.Stream, _entries, _files, _first, _last, broken, _notes);
    }

    private AuditBreak? Walk(Lookahead<ChainItem> items)
    {
        while (items.TryTake(out var item))
        {
            var broken = item.Kind switch
            {
                ChainItemKind.FileStart => CountFile(),
                ChainItemKind.Torn => Note($"{item.File.Name} ends with a torn line (line {item.Line}), from a crash; it is not an entry"),
                ChainItemKind.Malformed => Break(item, AuditBreakKind.Malformed, $"line {item.Line} of {item.File.Name} is not an audit entry: {item.Problem}"),
                _ => CheckEntry(item, items),
            };
            if (broken is not null)
            {
                return broken;
            }
        }

        EndReplay();
        return null;
    }

    private AuditBreak? CheckEntry(ChainItem item, Lookahead<ChainItem> items)
    {
        var e = item.Entry!;
        if (_lastMac is null)
        {
            return First(item);
        }

        var expected = _last + 1;
        if (!item.MacValid)
        {
            // A forged line has a wrong hash too; it was inserted if the chain goes on past it as if it were not there.
            return Continues(items.NextEntry())
                ? Break(item, AuditBreakKind.Inserted, $"line {item.Line} of {item.File.Name} is not a genuine entry (its hash does not match) and the chain continues after it from entry {_last}: it was inserted")
                : Break(item, AuditBreakKind.Edited, $"entry {e.Sequence}'s hash does not match its content: it was edited");
        }

        if (e.Sequence == expected)
        {
            return e.Prev.AsSpan().SequenceEqual(_lastMac)
                ? Accept(item)
                : Break(item, AuditBreakKind.Inserted, $"entry {e.Sequence} at line {item.Line} of {item.File.Name} does not follow entry {_last}: its link names another entry, so it was inserted or replaced");
        }

        if (e.Sequence > expected)
        {
            return items.Find(i => i.Entry?.Sequence == expected, LookAhead)
                ? Break(item, AuditBreakKind.Reordered, $"entry {e.Sequence} comes before entry {expected} (line {item.Line} of {item.File.Name}): the entries were reordered")
                : Break(item, AuditBreakKind.Removed, $"{AuditStartDetail.Missing(expected, e.Sequence - 1)} before line {item.Line} of {item.File.Name}: {(expected == e.Sequence - 1 ? "it was" : "they were")} removed{(item.FirstInFile ? " (perhaps a whole file)" : "")}");
        }

        if (_recent.Matches(e.Sequence, e.Mac))
        {
            if (item.FirstInFile || (_replay is { } r && r.At.File == item.File))
            {
                // The writer wrote these again after a failed write it could not cut back: identical copies, not tampering.
                _replay = _replay is { } open ? (open.At, open.From, e.Sequence) : (item, e.Sequence, e.Sequence);
                return null;
            }

            return Continues(items.NextEntry())
                ? Break(item, AuditBreakKind.Inserted, $"entry {e.Sequence} appears again at line {item.Line} of {item.File.Name}: a copy was inserted")
                : Break(item, AuditBreakKind.Reordered, $"entry {e.Sequence} comes after entry {_last} (line {item.Line} of {item.File.Name}): the entries were reordered");
        }

        return Continues(items.NextEntry())
            ? Break(item, AuditBreakKind.Inserted, $"line {item.Line} of {item.File.Name} holds an entry numbered {e.Sequence} that does not belong after entry {_last}: it was inserted")
            : Break(item, AuditBreakKind.Reordered, $"entry {e.Sequence} comes after entry {_last} (line {item.Line} of {item.File.Name}): the entries were reordered");
    }

    private AuditBreak? First(ChainItem item)
    {
        var e = item.Entry!;
        if (!item.MacValid)
        {
            return Break(item, AuditBreakKind.Edited, $"entry {e.Sequence}'s hash does not match its content: it was edited, or the log was written with another chain key");
        }

        if (e.Sequence == 1 && !e.Prev.AsSpan().SequenceEqual(AuditFormat.GenesisMac(chainKey, stream.Stream)))
        {
            return Break(item, AuditBreakKind.Inserted, $"entry 1 at line {item.Line} of {item.File.Name} links to an entry before it or to the start of another stream: it does not start the chain of stream {stream.Stream}");
        }

        if (e.Sequence > 1)
        {
            _notes.Add($"the log starts at entry {e.Sequence} ({item.File.Name}): earlier files were removed or not given");
        }

        _first = e.Sequence;
        return Accept(item);
    }

    private AuditBreak? Accept(ChainItem item)
    {
        EndReplay();
        var e = item.Entry!;
        (_last, _lastMac, _lastKind, _lastItem) = (e.Sequence, e.Mac, e.Event?.Kind, item);
        _recent.Add(e.Sequence, e.Mac);
        _entries++;
        if (e.Event is { Kind: AuditKinds.LogStart, Detail: var detail })
        {
            if (AuditStartDetail.TryGetMissing(detail, out var from, out var to))
            {
                return Break(item, AuditBreakKind.Truncated, $"{AuditStartDetail.Missing(from, to)}: they were cut from the end of the log before the writer started again at entry {e.Sequence} (line {item.Line} of {item.File.Name}), which noted it in its audit.start entry");
            }

            if (AuditStartDetail.ReportsAlteredHead(detail))
            {
                return Break(item, AuditBreakKind.Edited, $"the head anchor was altered before the writer started again at entry {e.Sequence} (line {item.Line} of {item.File.Name}); its audit.start entry says: {detail}");
            }

            // The writer puts the head anchor on disk before a new log's first entry, so only the
            // very first start may find none; later, a missing one was deleted, and with it the proof of a cut tail.
            if (AuditStartDetail.ReportsLostHead(detail) && !(e.Sequence == 1 && AuditStartDetail.IsNewLog(detail)))
            {
                return Break(item, AuditBreakKind.Truncated, $"the head anchor was missing or unreadable when the writer started again at entry {e.Sequence} (line {item.Line} of {item.File.Name}): entries cut from the end before then would not show; its audit.start entry says: {detail}");
            }
        }
        else if (e.Event is { Kind: AuditKinds.LogGap, Detail: var gap })
        {
            _notes.Add($"entry {e.Sequence} ({item.File.Name}, line {item.Line}) records a gap: {gap}");
        }

        return null;
    }

    private AuditBreak? CheckEnd()
    {
        if (_entries == 0)
        {
            _notes.Add("there are no entries");
            return null;
        }

        if (stream.IncludesNewest)
        {
            var broken = CheckHead();
            if (broken is not null)
            {
                return broken;
            }
        }

        if (_lastKind != AuditKinds.LogStop)
        {
            _notes.Add("the log does not end with audit.stop: the writer is running or stopped without closing the log");
        }

        return null;
    }

    private AuditBreak? CheckHead()
    {
        var (path, head, problem) = (headReading.Path, headReading.Head, headReading.Problem);
        switch (problem)
        {
            // The writer makes the head anchor before a log's first entry and only ever overwrites it
            // in place, within one sector: a log with entries and no readable head anchor was tampered with.
            case HeadProblem.Missing:
                return new AuditBreak(path, 1, null, AuditBreakKind.Truncated, $"the head anchor {Path.GetFileName(path)} is missing: entries cut from the end would not show");
            case HeadProblem.Unreadable:
                return new AuditBreak(path, 1, null, AuditBreakKind.Truncated, $"the head anchor {Path.GetFileName(path)} is unreadable: entries cut from the end would not show");
            case HeadProblem.Forged:
                return new AuditBreak(path, 1, null, AuditBreakKind.Edited, $"the head anchor {Path.GetFileName(path)} does not match its seal: it was altered");
        }

        var last = _lastItem!;
        if (head!.Sequence > _last)
        {
            return new AuditBreak(last.File.Path, last.Line + 1, _last + 1, AuditBreakKind.Truncated, string.Create(
                CultureInfo.InvariantCulture,
                $"the log ends at entry {_last} (line {last.Line} of {last.File.Name}) but the head anchor names entry {head.Sequence}: {AuditStartDetail.Missing(_last + 1, head.Sequence)}, cut from the end"));
        }

        if (_recent.Get(head.Sequence) is { } mac && !mac.AsSpan().SequenceEqual(head.Mac))
        {
            return new AuditBreak(path, 1, head.Sequence, AuditBreakKind.Edited, $"entry {head.Sequence} does not match the head anchor, which sealed it as written: one of them was replaced");
        }

        return null;
    }

    private IEnumerable<ChainItem> Items()
    {
        foreach (var file in stream.Files)
        {
            yield return ChainItem.FileStart(file);
            var first = true;
            foreach (var line in AuditLineReader.Read(file.Path))
            {
                if (!line.Terminated && !line.TooLong)
                {
                    yield return new ChainItem(file, line.Number, ChainItemKind.Torn);
                }
                else if (line.TooLong)
                {
                    yield return new ChainItem(file, line.Number, ChainItemKind.Malformed, Problem: $"it is longer than {AuditLineReader.MaxLineLength} bytes");
                }
                else if (!AuditEntryParser.TryParse(line.Bytes, out var entry, out var problem))
                {
                    yield return new ChainItem(file, line.Number, ChainItemKind.Malformed, Problem: problem);
                }
                else
                {
                    yield return new ChainItem(file, line.Number, ChainItemKind.Entry, entry, entry!.HasValidMac(line.Bytes.Span, chainKey), FirstInFile: first);
                }

                first = false;
            }
        }
    }

    /// <summary>Whether the entry goes on from the last accepted one, as if the line before it were not there.</summary>
    private bool Continues(ChainItem? next) =>
        next is { MacValid: true, Entry: { } e } && e.Sequence == _last + 1 && e.Prev.AsSpan().SequenceEqual(_lastMac);

    private AuditBreak? CountFile()
    {
        _files++;
        return null;
    }

    private AuditBreak? Note(string note)
    {
        _notes.Add(note);
        return null;
    }

    private void EndReplay()
    {
        if (_replay is { } r)
        {
            _notes.Add(r.From == r.To
                ? $"entry {r.From} appears twice, identical, at line {r.At.Line} of {r.At.File.Name}: the writer wrote it again after a failed write"
                : $"entries {r.From} to {r.To} appear twice, identical, from line {r.At.Line} of {r.At.File.Name}: the writer wrote them again after a failed write");
            _replay = null;
        }
    }

    private static AuditBreak Break(ChainItem item, AuditBreakKind kind, string message) =>
        new(item.File.Path, item.Line, item.Entry?.Sequence, kind, message);
}

/// <summary>An enumerator that can look ahead, so a break can be told from a move.</summary>
internal sealed class Lookahead<T>(IEnumerator<T> source) : IDisposable
    where T : class
{
    private readonly List<T> _ahead = [];

    public bool TryTake(out T item)
    {
        if (_ahead.Count > 0)
        {
            item = _ahead[0];
            _ahead.RemoveAt(0);
            return true;
        }

        var moved = source.MoveNext();
        item = moved ? source.Current : null!;
        return moved;
    }

    public T? Peek(int index)
    {
        while (_ahead.Count <= index)
        {
            if (!source.MoveNext())
            {
                return null;
            }

            _ahead.Add(source.Current);
        }

        return _ahead[index];
    }

    public bool Find(Func<T, bool> predicate, int limit)
    {
        for (var i = 0; i < limit && Peek(i) is { } item; i++)
        {
            if (predicate(item))
            {
                return true;
            }
        }

        return false;
    }

    public void Dispose() => source.Dispose();
}

/// <summary>Looks past file starts and torn lines to the next line that matters.</summary>
internal static class LookaheadExtensions
{
    public static ChainItem? NextEntry(this Lookahead<ChainItem> items)
    {
        for (var i = 0; items.Peek(i) is { } item; i++)
        {
            if (item.Kind is ChainItemKind.Entry or ChainItemKind.Malformed)
            {
                return item;
            }
        }

        return null;
    }
}
