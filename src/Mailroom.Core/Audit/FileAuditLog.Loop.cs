using System.Buffers;

namespace Mailroom.Core.Audit;

/// <summary>The background loop: the only code that touches the log files once the log is open.</summary>
public sealed partial class FileAuditLog
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);
    private const int MaxBatchEntries = 8192;

    private readonly AuditEntryWriter _entryWriter;
    private readonly ITimer _flushTimer;
    private readonly ITimer _retryTimer;
    private readonly SemaphoreSlim _wake = new(0);

    /// <summary>
    /// What wakes the loop outside a failure: an entry someone waits for, a pile of
    /// <see cref="QuietLimit"/> plain ones, the flush timer, or closing. A plain entry alone does
    /// not: it waits in the queue for the next of those, so the loop runs (and writes) once per
    /// batch of commands rather than once per command.
    /// </summary>
    private readonly SemaphoreSlim _doorbell = new(0);

    /// <summary>Plain entries that may wait in the queue before they wake the loop; bounds what a flood of them holds in memory.</summary>
    private const int QuietLimit = 512;

    private int _rung;
    private int _quiet;
    private int _flushArmed;

    /// <summary>When the flush timer fires, while it is armed; only ever moved earlier (see <see cref="ArmFlush"/>).</summary>
    private DateTimeOffset? _flushDue;
    private readonly Lock _flushGate = new();

    // Everything below belongs to the loop.
    private readonly List<PendingEntry> _unwritten = [];
    private readonly List<PendingEntry> _unsynced = [];
    private long _sequence;
    private byte[] _mac;
    private IAuditFile? _file;
    private IAuditHeadFile? _head;
    private string? _filePath;
    private int _fileDay;
    private int _fileNumber;
    private long _fileLength;
    private long _syncedLength;
    private DateTimeOffset _lastSync;
    private bool _failing;

    /// <summary>The newest file, when this writer may go on with it (see <see cref="ChainEnd.Continuable"/>); used once.</summary>
    private (string Path, long Length)? _continuable;
    private volatile bool _writeStop;

    private async Task RunAsync()
    {
        try
        {
            while (!_closing)
            {
                if (_failing)
                {
                    await _wake.WaitAsync().ConfigureAwait(false);
                }
                else
                {
                    await _doorbell.WaitAsync().ConfigureAwait(false);
                    Volatile.Write(ref _rung, 0);
                }

                if (!_closing && Step(closing: false))
                {
                    // The batch limit left entries in the queue: go round again for them.
                    Ring();
                }
            }

            // Closing: the queue takes nothing more; write what is left, audit.stop last, and fsync. One try.
            Step(closing: true);
        }
#pragma warning disable CA1031 // The loop must end cleanly whatever went wrong, so that no waiter hangs.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _lastError = ex;
            _writable = false;
        }
        finally
        {
            FailWaiters(_unwritten, "The audit log closed before the entry could be written.");
            FailWaiters(_unsynced, "The audit log closed before the entry could be written.");
            while (_queue.Reader.TryRead(out var left))
            {
                left.Waiter?.TrySetException(new AuditLogException("The audit log closed before the entry could be written."));
            }

            CloseFile();
            CloseHead();
            _entryWriter.Dispose();
        }
    }

    /// <summary>
    /// One batch: serialise what has queued, write it with one call, fsync if anyone waits or the
    /// interval is up. True when the batch limit left entries in the queue.
    /// </summary>
    private bool Step(bool closing)
    {
        var now = _time.GetUtcNow();

        // Cleared before the queue is read, so a plain entry queued from here on either is taken
        // by this batch or finds the flags clear and wakes the loop or arms the timer itself.
        Volatile.Write(ref _quiet, 0);
        Volatile.Write(ref _flushArmed, 0);

        // Closing takes everything left, however much, so audit.stop comes last and nothing queued is lost.
        var full = Drain(now, closing ? int.MaxValue : MaxBatchEntries);
        if (closing && _writeStop)
        {
            Append(new AuditEvent { Kind = AuditKinds.LogStop, Outcome = AuditOutcome.Ok }, now, null, isInternal: true, counted: false);
        }

        if (_unwritten.Count == 0 && _unsynced.Count == 0)
        {
            // Nothing is waiting for the disk, so nothing is unaudited.
            MarkWritable();
            return full;
        }

        // After a failure only an fsync proves the disk works again (see MarkWritable).
        var sync = closing || _failing || now - _lastSync >= _options.FlushInterval || _unwritten.Exists(e => e.Waiter is not null);
        try
        {
            if (_unwritten.Count > 0)
            {
                EnsureFile(now);
                WriteBatch();
            }

            if (sync)
            {
                Sync(now);
            }
            else
            {
                Volatile.Write(ref _flushArmed, 1);
                ArmFlush(_lastSync + _options.FlushInterval);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Fail(ex, now, retry: !closing);
        }

        return full;
    }

    /// <summary>Takes up to <paramref name="limit"/> queued entries into the batch; true when it stopped at the limit.</summary>
    private bool Drain(DateTimeOffset now, int limit)
    {
        var dropped = Interlocked.Exchange(ref _dropped, 0);
        if (dropped > 0)
        {
            var gap = new AuditEvent
            {
                Kind = AuditKinds.LogGap,
                Outcome = AuditOutcome.Refused,
                Detail = $"{dropped} entries were lost while the audit log could not be written",
            };
            Append(gap, now, null, isInternal: true, counted: false);
        }

        for (var taken = 0; taken < limit; taken++)
        {
            if (!_queue.Reader.TryRead(out var queued))
            {
                return false;
            }

            Append(queued.Entry, queued.Time, queued.Waiter, queued.Internal, counted: !queued.Internal);
        }

        return true;
    }

    /// <summary>Gives the entry its sequence number and link, and keeps its bytes until they are fsynced.</summary>
    private void Append(AuditEvent entry, DateTimeOffset time, TaskCompletionSource? waiter, bool isInternal, bool counted)
    {
        byte[] bytes, mac;
        try
        {
            bytes = _entryWriter.Write(_sequence + 1, time, entry, _mac, isInternal, out mac);
        }
#pragma warning disable CA1031 // A cipher that throws loses this one entry, counted as lost; it must not stop the log.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            waiter?.TrySetException(new AuditLogException("The audit entry could not be serialised: " + ex.Message, ex));
            if (counted)
            {
                Interlocked.Decrement(ref _pending);
            }

            Interlocked.Increment(ref _dropped);
            return;
        }

        _sequence++;
        _mac = mac;
        _unwritten.Add(new PendingEntry(bytes, _sequence, mac, counted) { Waiter = waiter });
    }

    /// <summary>Rotates between batches: past the size limit or into a new UTC day, a new file takes the next batch.</summary>
    private void EnsureFile(DateTimeOffset now)
    {
        // Files are read in name order, so a clock stepped back across midnight must not name a
        // file after an earlier day than the newest one: the day only ever moves forward.
        var today = Math.Max(Day(now), _fileDay);
        if (_file is not null && (_fileLength >= _options.MaxFileSize || (_options.RotateDaily && today > _fileDay)))
        {
            // What the old file holds must be on disk before a later file can be.
            if (_unsynced.Count > 0)
            {
                Sync(now);
            }

            CloseFile();
        }

        if (_file is not null)
        {
            return;
        }

        // A writer that opens often (every admin command) goes on with the newest file of the day
        // rather than leave a file per run, when that file ended cleanly and has room.
        if (_continuable is { } newest && (today == _fileDay || !_options.RotateDaily) && newest.Length < _options.MaxFileSize)
        {
            _continuable = null;
            try
            {
                _file = _fileSystem.OpenAppend(newest.Path, newest.Length);
                _filePath = newest.Path;
                _fileLength = _syncedLength = newest.Length;
                return;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Then a new file, as after a crash.
            }
        }

        _continuable = null;
        var number = today == _fileDay ? _fileNumber + 1 : 1;
        string path;
        while (File.Exists(path = Path.Combine(_options.Folder, AuditFileNames.FileName(_options.Stream, DayOnly(today), number))))
        {
            number++;
        }

        (_fileDay, _fileNumber) = (today, number);
        _file = _fileSystem.CreateNew(path);
        _filePath = path;
        _fileLength = _syncedLength = 0;
        _fileSystem.SyncFolder(_options.Folder);
    }

    private void WriteBatch()
    {
        var total = 0;
        foreach (var entry in _unwritten)
        {
            total += entry.Bytes.Length;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(total);
        try
        {
            var offset = 0;
            foreach (var entry in _unwritten)
            {
                entry.Bytes.CopyTo(buffer, offset);
                offset += entry.Bytes.Length;
            }

            _file!.Append(buffer.AsSpan(0, total));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        _fileLength += total;
        _unsynced.AddRange(_unwritten);
        _unwritten.Clear();
    }

    private void Sync(DateTimeOffset now)
    {
        if (_unsynced.Count == 0)
        {
            return;
        }

        _file!.Sync();
        _syncedLength = _fileLength;
        _lastSync = now;
        MarkWritable();
        var last = _unsynced[^1];

        // Before any waiter goes on: one that asks how far the log reaches must see its own entry.
        Interlocked.Exchange(ref _lastSequence, last.Sequence);
        var counted = 0;
        foreach (var entry in _unsynced)
        {
            entry.Waiter?.TrySetResult();
            counted += entry.Counted ? 1 : 0;
        }

        _unsynced.Clear();
        Interlocked.Add(ref _pending, -counted);
        WriteHead(last);
    }

    // Only an fsync that succeeds (or nothing left to write) ends a failure: a write alone may sit in a page cache the disk cannot take.
    private void MarkWritable()
    {
        if (_failing)
        {
            _failing = false;
            _writable = true;
        }
    }

    private void WriteHead(PendingEntry last)
    {
        try
        {
            var head = new AuditHead(last.Sequence, last.Mac).Serialize(_options.Stream, _options.ChainKey);
            _head ??= _fileSystem.OpenHead(AuditFileNames.HeadPath(_options.Folder, _options.Stream));
            _head.Write(head);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The entries are safe; a head anchor that lags behind only narrows what a cut tail
            // shows. The file is opened again for the next batch.
            CloseHead();
        }
    }

    private void CloseHead()
    {
        try
        {
            _head?.Dispose();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Nothing is buffered: every write went to the file at once.
        }

        _head = null;
    }

    /// <summary>
    /// A write or fsync failed: after a failed fsync the kernel may have dropped the written pages,
    /// so everything since the last good fsync is written again, to a new file; this one is cut
    /// back to what is known to be on disk. The entries keep their bytes, so the chain is unchanged.
    /// </summary>
    private void Fail(Exception error, DateTimeOffset now, bool retry)
    {
        _lastError = error;
        _failing = true;
        _writable = false;
        if (_file is not null)
        {
            try
            {
                _file.Truncate(_syncedLength);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The copies in the next file are identical; the verifier and reader recognise them.
            }

            var empty = _syncedLength == 0;
            CloseFile();
            if (empty)
            {
                TryDelete(_filePath!);
            }
        }

        _unwritten.InsertRange(0, _unsynced);
        _unsynced.Clear();

        // Armed before the waiters hear of the failure, so whatever they do next finds the retry scheduled.
        if (retry)
        {
            _retryTimer.Change(RetryInterval, Timeout.InfiniteTimeSpan);
        }

        FailWaiters(_unwritten, null);
    }

    private void FailWaiters(List<PendingEntry> entries, string? message)
    {
        foreach (var entry in entries)
        {
            if (entry.Waiter is { } waiter)
            {
                waiter.TrySetException(message is null ? NotWritable() : new AuditLogException(message));
                entry.Waiter = null;
            }
        }
    }

    private void CloseFile()
    {
        try
        {
            _file?.Dispose();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Nothing is buffered; closing can only report an earlier failure, already handled.
        }

        _file = null;
    }

    private void TryDelete(string path)
    {
        try
        {
            _fileSystem.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // An empty file left behind holds no entries; readers pass over it.
        }
    }

    private void OnFlushDue()
    {
        lock (_flushGate)
        {
            _flushDue = null;
        }

        Ring();
    }

    /// <summary>
    /// Arms the flush timer for <paramref name="due"/>, unless it already fires earlier: a plain
    /// entry queued while the loop writes must not push back the fsync that entries already
    /// written are waiting for.
    /// </summary>
    private void ArmFlush(DateTimeOffset due)
    {
        lock (_flushGate)
        {
            if (_flushDue is { } armed && armed <= due)
            {
                return;
            }

            _flushDue = due;
            var wait = due - _time.GetUtcNow();
            _flushTimer.Change(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Wakes the loop; rings once however many callers ring before it wakes.</summary>
    private void Ring()
    {
        if (Interlocked.Exchange(ref _rung, 1) == 0)
        {
            _doorbell.Release();
        }
    }

    /// <summary>
    /// A plain entry has been queued: it wakes the loop only as the <see cref="QuietLimit"/>th since
    /// the last batch; otherwise the first of them arms the flush timer, so it is written and
    /// fsynced within <see cref="AuditLogOptions.FlushInterval"/> even if nothing else comes.
    /// </summary>
    private void OnPlainQueued()
    {
        if (Interlocked.Increment(ref _quiet) >= QuietLimit)
        {
            Ring();
        }
        else if (Interlocked.Exchange(ref _flushArmed, 1) == 0)
        {
            ArmFlush(_time.GetUtcNow() + _options.FlushInterval);
        }
    }

    private void OnRetryDue() => _wake.Release();

    private static int Day(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return (utc.Year * 10000) + (utc.Month * 100) + utc.Day;
    }

    private static DateOnly DayOnly(int day) => new(day / 10000, day / 100 % 100, day % 100);

    /// <summary>An entry serialised with its place in the chain, kept until it is fsynced.</summary>
    private sealed class PendingEntry(byte[] bytes, long sequence, byte[] mac, bool counted)
    {
        public byte[] Bytes { get; } = bytes;

        public long Sequence { get; } = sequence;

        public byte[] Mac { get; } = mac;

        /// <summary>Whether it counts against <see cref="AuditLogOptions.MaxPendingEntries"/> (the log's own entries do not).</summary>
        public bool Counted { get; } = counted;

        public TaskCompletionSource? Waiter { get; set; }
    }
}
