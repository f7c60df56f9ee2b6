using System.Diagnostics;
using System.Threading.Channels;

namespace Mailroom.Core.Audit;

/// <summary>
/// The audit log on disk (issue 5): JSON Lines files in a folder, each entry chained to the one
/// before by an HMAC, optionally encrypted. Callers never wait for the disk unless they ask to:
/// <see cref="Record"/> queues, and one background loop writes whatever has queued as one batch
/// with one write call and one fsync (group commit), so the audit log does not become the receive
/// path's bottleneck, while <see cref="RecordDurableAsync"/> returns only once its entry is fsynced,
/// so an accepted message or a deletion is on disk before the reply that confirms it.
/// </summary>
public sealed partial class FileAuditLog : IAuditLog, IAsyncDisposable
{
    private readonly AuditLogOptions _options;
    private readonly TimeProvider _time;
    private readonly IAuditFileSystem _fileSystem;
    private readonly FileStream _lockFile;
    private readonly Channel<Queued> _queue = Channel.CreateUnbounded<Queued>(new UnboundedChannelOptions { SingleReader = true });
    private readonly object _closeGate = new();
    private Task? _loop;
    private Task? _close;
    private int _pending;
    private long _dropped;
    private long _lastSequence;
    private volatile bool _writable = true;
    private volatile bool _closing;
    private volatile Exception? _lastError;

    private FileAuditLog(AuditLogOptions options, TimeProvider time, IAuditFileSystem fileSystem, FileStream lockFile, ChainEnd end)
    {
        _options = options with { ChainKey = (byte[])options.ChainKey.Clone() };
        _time = time;
        _fileSystem = fileSystem;
        _lockFile = lockFile;
        _entryWriter = new AuditEntryWriter(_options.ChainKey, options.Node, options.Cipher);
        _sequence = end.Last?.Sequence ?? 0;
        _lastSequence = _sequence;
        _mac = end.Last?.Mac ?? AuditFormat.GenesisMac(options.ChainKey, options.Stream);
        (_fileDay, _fileNumber) = (end.NewestDay, end.NewestNumber);
        _continuable = options.ContinueNewestFile ? end.Continuable : null;
        _lastSync = time.GetUtcNow();
        _flushTimer = time.CreateTimer(static s => ((FileAuditLog)s!).OnFlushDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _retryTimer = time.CreateTimer(static s => ((FileAuditLog)s!).OnRetryDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>False while the disk refuses the log; the server then answers 451 4.3.0 to new transactions rather than carry on unaudited (issue 5, item 5).</summary>
    public bool IsWritable => _writable;

    /// <summary>The sequence number of the last entry known to be on disk, so a caller can say how far the log reaches.</summary>
    public long LastSequence => Interlocked.Read(ref _lastSequence);

    /// <summary>
    /// Opens the stream for writing: takes its lock, finds where its chain ends (across restarts
    /// and rotated files), starts a new file and writes an audit.start entry to it durably, so a
    /// log that cannot be written fails here rather than at the first event.
    /// </summary>
    /// <exception cref="AuditLogException">Another writer holds the stream, or the folder cannot be written.</exception>
    public static Task<FileAuditLog> OpenAsync(AuditLogOptions options, TimeProvider? time = null, CancellationToken cancellationToken = default) =>
        OpenAsync(options, time, AuditFileSystem.Instance, cancellationToken);

    internal static async Task<FileAuditLog> OpenAsync(
        AuditLogOptions options, TimeProvider? time, IAuditFileSystem fileSystem, CancellationToken cancellationToken)
    {
        Validate(options);
        time ??= TimeProvider.System;
        var folder = Path.GetFullPath(options.Folder);
        options = options with { Folder = folder };
        try
        {
            AuditFileSystem.CreatePrivateFolder(folder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new AuditLogException($"The audit folder {folder} cannot be created: {ex.Message}", ex);
        }

        var lockFile = await LockAsync(options, cancellationToken).ConfigureAwait(false);
        FileAuditLog? log = null;
        try
        {
            var end = ChainEnd.Find(options);
            if (end.Last is null && end.HeadProblem is HeadProblem.Missing or HeadProblem.Unreadable)
            {
                end = WriteGenesisHead(options, fileSystem, end);
            }

            log = new FileAuditLog(options, time, fileSystem, lockFile, end);
            log._loop = Task.Run(log.RunAsync, CancellationToken.None);
            var start = new AuditEvent
            {
                Kind = AuditKinds.LogStart,
                Outcome = AuditOutcome.Ok,
                Detail = AuditStartDetail.Format(end.Last, end.LastFile, options.Cipher, end.Head, end.HeadProblem),
            };
            await log.EnqueueInternalDurable(start).WaitAsync(cancellationToken).ConfigureAwait(false);
            return log;
        }
        catch (Exception ex)
        {
            if (log is null)
            {
                await lockFile.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                await log.CloseAsync(writeStop: false).ConfigureAwait(false);
            }

            if (ex is AuditLogException or IOException or UnauthorizedAccessException)
            {
                throw new AuditLogException($"The audit log in {folder} cannot be written: {ex.Message}", ex);
            }

            throw;
        }
    }

    /// <summary>
    /// A brand-new log gets its head anchor (entry 0, the genesis link) on disk before its first
    /// entry, so a log with entries and no head anchor never happens by itself: the verifier can
    /// then call a missing head anchor what it is, a way to hide a cut tail.
    /// </summary>
    private static ChainEnd WriteGenesisHead(AuditLogOptions options, IAuditFileSystem fileSystem, ChainEnd end)
    {
        var head = new AuditHead(0, AuditFormat.GenesisMac(options.ChainKey, options.Stream));
        fileSystem.Overwrite(AuditFileNames.HeadPath(options.Folder, options.Stream), head.Serialize(options.Stream, options.ChainKey), durable: true);
        fileSystem.SyncFolder(options.Folder);
        return end with { Head = head, HeadProblem = HeadProblem.None };
    }

    /// <summary>Queues the entry for the next batch; never blocks and never throws for a failing disk (past <see cref="AuditLogOptions.MaxPendingEntries"/> it is dropped and counted).</summary>
    public void Record(AuditEvent entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (_closing || !TryReserve())
        {
            return;
        }

        if (_queue.Writer.TryWrite(new Queued(entry, Stamp(entry), null, Internal: false)))
        {
            OnPlainQueued();
        }
        else
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    /// <summary>
    /// Queues the entry and returns once it, and every entry before it, is fsynced. While the log
    /// cannot be written this fails at once, so a reply never waits on a broken disk; the entry
    /// is still queued, like every pending entry, and written when the disk recovers. After a
    /// failure the caller must treat the event as unconfirmed (answer 451), not as unrecorded.
    /// </summary>
    /// <exception cref="AuditLogException">The entry could not be written, the log is closed, or too many entries are pending.</exception>
    public ValueTask RecordDurableAsync(AuditEvent entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (_closing)
        {
            return ValueTask.FromException(new AuditLogException("The audit log is closed."));
        }

        if (!_writable)
        {
            Record(entry);
            return ValueTask.FromException(NotWritable());
        }

        if (!TryReserve())
        {
            return ValueTask.FromException(new AuditLogException(
                $"The audit log has {_options.MaxPendingEntries} entries waiting for the disk; this one was dropped."));
        }

        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(new Queued(entry, Stamp(entry), waiter, Internal: false)))
        {
            Interlocked.Decrement(ref _pending);
            return ValueTask.FromException(new AuditLogException("The audit log is closed."));
        }

        Ring();

        return new ValueTask(waiter.Task.WaitAsync(cancellationToken));
    }

    /// <summary>
    /// Writes an audit.stop entry, so the verifier can tell a clean stop from a crash, writes and
    /// fsyncs everything pending, and releases the stream's lock. Never throws: if the disk still
    /// fails, what is pending is lost and the log does not end with audit.stop. Safe to call twice.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        lock (_closeGate)
        {
            _close ??= CloseAsync(writeStop: true);
            return new ValueTask(_close);
        }
    }

    private async Task CloseAsync(bool writeStop)
    {
        _writeStop = writeStop;
        _closing = true;
        _queue.Writer.TryComplete();
        _wake.Release();
        Ring();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        await _flushTimer.DisposeAsync().ConfigureAwait(false);
        await _retryTimer.DisposeAsync().ConfigureAwait(false);
        await _lockFile.DisposeAsync().ConfigureAwait(false);
    }

    private Task EnqueueInternalDurable(AuditEvent entry)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(new Queued(entry, _time.GetUtcNow(), waiter, Internal: true)))
        {
            return Task.FromException(new AuditLogException("The audit log is closed."));
        }

        Ring();
        return waiter.Task;
    }

    private bool TryReserve()
    {
        if (Interlocked.Increment(ref _pending) <= _options.MaxPendingEntries)
        {
            return true;
        }

        Interlocked.Decrement(ref _pending);
        Interlocked.Increment(ref _dropped);
        return false;
    }

    // DateTimeOffset.MinValue means "when the log takes it": now, not when the batch is written.
    private DateTimeOffset Stamp(AuditEvent entry) => entry.Timestamp == default ? _time.GetUtcNow() : entry.Timestamp;

    private AuditLogException NotWritable() =>
        _lastError is { } error
            ? new AuditLogException("The audit log cannot be written: " + error.Message, error)
            : new AuditLogException("The audit log cannot be written.");

    private static void Validate(AuditLogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.Folder, nameof(options));
        ArgumentException.ThrowIfNullOrEmpty(options.Node, nameof(options));
        ArgumentNullException.ThrowIfNull(options.ChainKey, nameof(options));
        ArgumentNullException.ThrowIfNull(options.Cipher, nameof(options));
        if (!AuditFileNames.IsValidStream(options.Stream))
        {
            throw new ArgumentException($"The audit stream name '{options.Stream}' must be 1 to 64 letters, digits, '_', '-' or '.', not starting with '.' or '-'.", nameof(options));
        }

        if (options.ChainKey.Length < AuditKeys.KeySize)
        {
            throw new ArgumentException($"The audit chain key must have at least {AuditKeys.KeySize} bytes, not {options.ChainKey.Length}.", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxFileSize, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.FlushInterval, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxPendingEntries, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.LockTimeout, TimeSpan.Zero, nameof(options));
    }

    // FileShare.None makes .NET take flock(LOCK_EX) on Unix: advisory, but every writer asks for it.
    // The wait is in real time whatever the TimeProvider: it waits on another process.
    private static async Task<FileStream> LockAsync(AuditLogOptions options, CancellationToken cancellationToken)
    {
        var path = AuditFileNames.LockPath(options.Folder, options.Stream);
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                return new FileStream(path, AuditFileSystem.PrivateFileOptions(FileMode.OpenOrCreate, FileAccess.ReadWrite));
            }
            catch (IOException ex) when (IsLocked(ex))
            {
                if (Stopwatch.GetElapsedTime(started) >= options.LockTimeout)
                {
                    throw new AuditLogException(
                        $"The audit stream '{options.Stream}' in {options.Folder} is in use by another writer (it holds {path}).", ex);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new AuditLogException($"The audit lock file {path} cannot be opened: {ex.Message}", ex);
            }
        }
    }

    // EWOULDBLOCK from flock (11 on Linux, 35 on macOS and BSD); sharing and lock violations on Windows.
    private static bool IsLocked(IOException ex) =>
        ex.HResult is 11 or 35 or unchecked((int)0x80070020) or unchecked((int)0x80070021);

    private readonly record struct Queued(AuditEvent Entry, DateTimeOffset Time, TaskCompletionSource? Waiter, bool Internal);
}
