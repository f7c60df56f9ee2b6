using System.Diagnostics;
using System.Text;

using Microsoft.Data.Sqlite;

namespace Mailroom.Storage.Sqlite.Tests;

/// <summary>
/// Microsoft.Data.Sqlite's async methods run synchronously: a write waiting on SQLite's lock
/// (busy_timeout) blocks its thread. Writers in one store must queue on an async gate instead,
/// so 50 SMTP sessions waiting to commit do not hold 50 thread-pool threads.
/// </summary>
[Collection(typeof(NotInParallel))]
public sealed class WriteGateTests : TempStore
{
    private const int Deliveries = 50;
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task FiftyDeliveriesQueueWithoutHoldingThreadsWhileAnotherProcessWrites()
    {
        var a = await AddUserAsync("a@example.com");
        var ready = new ReadyCounter(Path.Combine(MessagesDirectory, "tmp"), Deliveries);
        Store.CommitRecorder = ready;

        Task<string>[] deliveries;
        int readyWhileLocked;
        var clock = Stopwatch.StartNew();
        using (HoldWriteLock())
        {
            deliveries = [.. Enumerable.Range(0, Deliveries).Select(i => Task.Run(
                () => DeliverAsync(Encoding.ASCII.GetBytes($"Subject: m{i}\r\n\r\nbody\r\n"), a)))];

            // Each delivery reports its last directory sync right before it asks for the database.
            // Blocked writers would each hold a thread; without the gate the pool must grow to 50
            // threads first, and the earliest writers run out of busy_timeout (5 s) meanwhile.
            await Task.WhenAny(ready.All, Task.Delay(TimeSpan.FromSeconds(4)));
            readyWhileLocked = ready.Count;
        }

        var ids = await Task.WhenAll(deliveries);

        Assert.True(readyWhileLocked == Deliveries, $"only {readyWhileLocked} of {Deliveries} deliveries got to the database step in {clock.Elapsed}");

        // However many threads the machine has, one write at a time went to SQLite.
        Assert.Equal(1, Store.PeakConcurrentWrites);
        var summaries = await Store.ListMessagesAsync(null, None);
        Assert.Equal(ids.Order(), summaries.Select(s => s.MessageId).Order());
    }

    [Fact]
    public async Task EnsuringAnExistingSystemMailboxDoesNotWrite()
    {
        var postmaster = await Store.EnsureSystemMailboxAsync("postmaster", None);

        // Another process holds the write lock: a write here would wait out busy_timeout and fail.
        using (HoldWriteLock())
        {
            Assert.Equal(postmaster, await Store.EnsureSystemMailboxAsync("PostMaster", None));
        }

        Assert.Equal("abuse", (await Store.EnsureSystemMailboxAsync("abuse", None)).Address);
    }

    /// <summary>Counts deliveries that synced <c>messages/tmp/</c>, their last step before the database.</summary>
    private sealed class ReadyCounter(string tempFolder, int expected) : ICommitRecorder
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _count;

        public Task All => _all.Task;

        public int Count => Volatile.Read(ref _count);

        public void Record(CommitStep step, string path)
        {
            if (step == CommitStep.DirectorySynced && path == tempFolder && Interlocked.Increment(ref _count) == expected)
            {
                _all.SetResult();
            }
        }
    }
}
