using Mailroom.Core.Audit;

namespace Mailroom.Core.Tests.Audit;

/// <summary>
/// The real disk, with a hand on it: writes and fsyncs can be made to fail as on a full disk
/// (ENOSPC), an fsync can be held back, and every fsync is counted and can be awaited.
/// </summary>
internal sealed class FakeAuditFileSystem : IAuditFileSystem, IDisposable
{
    private const int Enospc = 28;
    private readonly object _gate = new();
    private readonly ManualResetEventSlim _syncGate = new(initialState: true);
    private readonly List<TaskCompletionSource> _syncWaiters = [];
    private readonly List<TaskCompletionSource> _headWaiters = [];
    private readonly List<TaskCompletionSource> _syncStartWaiters = [];
    private readonly List<(long Sequence, TaskCompletionSource Waiter)> _headSequenceWaiters = [];
    private int _syncs;
    private int _writes;

    private volatile bool _failWrites;
    private volatile bool _failSyncs;
    private volatile bool _failTruncates;

    /// <summary>Every write fails with ENOSPC.</summary>
    public bool FailWrites { get => _failWrites; set => _failWrites = value; }

    /// <summary>Every fsync fails with ENOSPC (after the write went through).</summary>
    public bool FailSyncs { get => _failSyncs; set => _failSyncs = value; }

    /// <summary>Cutting a file back fails too (EIO).</summary>
    public bool FailTruncates { get => _failTruncates; set => _failTruncates = value; }

    public int Syncs => Volatile.Read(ref _syncs);

    public int Writes => Volatile.Read(ref _writes);

    public List<string> Created { get; } = [];

    /// <summary>What reached the disk, in order: "created &lt;file&gt;", "fsynced &lt;file&gt;" (a durable overwrite), "synced folder".</summary>
    public List<string> Steps { get; } = [];

    /// <summary>
    /// Holds every fsync until the returned hold is disposed. Declare it after the log, so that a
    /// failing assertion releases the fsync before the log's disposal waits for it.
    /// </summary>
    public IDisposable HoldSyncs()
    {
        _syncGate.Reset();
        return new Hold(_syncGate);
    }

    /// <summary>Completes when the next fsync begins, before it is held or fails.</summary>
    public Task NextSyncStarted() => Register(_syncStartWaiters);

    /// <summary>Completes at the next fsync that succeeds.</summary>
    public Task NextSuccessfulSync() => Register(_syncWaiters);

    /// <summary>
    /// Completes when the head anchor is next replaced: the last step of a batch, after its fsync
    /// and its waiters, so everything the batch changed is visible.
    /// </summary>
    public Task NextHeadWrite() => Register(_headWaiters);

    /// <summary>
    /// Completes when a head anchor naming entry <paramref name="sequence"/> or a later one is
    /// written: the end of the batch that made that entry durable, whichever batches come before.
    /// </summary>
    public Task HeadWritten(long sequence)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _headSequenceWaiters.Add((sequence, waiter));
        }

        return waiter.Task;
    }

    public IAuditFile CreateNew(string path)
    {
        var file = AuditFileSystem.Instance.CreateNew(path);
        lock (_gate)
        {
            Created.Add(path);
            Steps.Add("created " + Path.GetFileName(path));
        }

        return new File(this, file);
    }

    public IAuditFile OpenAppend(string path, long length) => new File(this, AuditFileSystem.Instance.OpenAppend(path, length));

    public void SyncFolder(string folder)
    {
        AuditFileSystem.Instance.SyncFolder(folder);
        lock (_gate)
        {
            Steps.Add("synced folder");
        }
    }

    public void Overwrite(string path, ReadOnlySpan<byte> contents, bool durable = false)
    {
        AuditFileSystem.Instance.Overwrite(path, contents, durable);
        if (durable)
        {
            lock (_gate)
            {
                Steps.Add("fsynced " + Path.GetFileName(path));
            }
        }

        Complete(_headWaiters);
    }

    public IAuditHeadFile OpenHead(string path) => new HeadFile(this, AuditFileSystem.Instance.OpenHead(path));

    public void Delete(string path) => AuditFileSystem.Instance.Delete(path);

    public void Dispose()
    {
        _syncGate.Set();
        _syncGate.Dispose();
    }

    private Task Register(List<TaskCompletionSource> list)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            list.Add(waiter);
        }

        return waiter.Task;
    }

    private static IOException DiskFull() => new("No space left on device", Enospc);

    private void Synced()
    {
        Interlocked.Increment(ref _syncs);
        Complete(_syncWaiters);
    }

    private void HeadReached(long sequence)
    {
        List<TaskCompletionSource> reached;
        lock (_gate)
        {
            reached = [.. _headSequenceWaiters.Where(w => w.Sequence <= sequence).Select(w => w.Waiter)];
            _headSequenceWaiters.RemoveAll(w => w.Sequence <= sequence);
        }

        foreach (var waiter in reached)
        {
            waiter.TrySetResult();
        }
    }

    private void Complete(List<TaskCompletionSource> list)
    {
        List<TaskCompletionSource> waiters;
        lock (_gate)
        {
            waiters = [.. list];
            list.Clear();
        }

        foreach (var waiter in waiters)
        {
            waiter.TrySetResult();
        }
    }

    private sealed class Hold(ManualResetEventSlim gate) : IDisposable
    {
        public void Dispose() => gate.Set();
    }

    private sealed class File(FakeAuditFileSystem owner, IAuditFile inner) : IAuditFile
    {
        public void Append(ReadOnlySpan<byte> bytes)
        {
            if (owner.FailWrites)
            {
                throw DiskFull();
            }

            inner.Append(bytes);
            Interlocked.Increment(ref owner._writes);
        }

        public void Sync()
        {
            owner.Complete(owner._syncStartWaiters);
            owner._syncGate.Wait();
            if (owner.FailSyncs)
            {
                throw DiskFull();
            }

            inner.Sync();
            owner.Synced();
        }

        public void Truncate(long length)
        {
            if (owner.FailTruncates)
            {
                throw new IOException("Input/output error", 5);
            }

            inner.Truncate(length);
        }

        public void Dispose() => inner.Dispose();
    }

    private sealed class HeadFile(FakeAuditFileSystem owner, IAuditHeadFile real) : IAuditHeadFile
    {
        public void Write(ReadOnlySpan<byte> contents)
        {
            real.Write(contents);
            owner.Complete(owner._headWaiters);
            owner.HeadReached(System.Text.Json.JsonDocument.Parse(contents.ToArray()).RootElement.GetProperty("seq").GetInt64());
        }

        public void Dispose() => real.Dispose();
    }
}
