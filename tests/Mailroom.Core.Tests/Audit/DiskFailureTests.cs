using Mailroom.Core.Audit;

namespace Mailroom.Core.Tests.Audit;

/// <summary>
/// Issue 5, item 5: when the audit log cannot be written, durable callers hear of it (so the server
/// answers 451 4.3.0), nothing is lost that fits in memory, and the chain is intact once the disk
/// recovers; beyond the limit, the loss is counted and put on the record.
/// </summary>
public sealed class DiskFailureTests : AuditTestBase
{
    [Fact]
    public async Task A_full_disk_fails_the_durable_waiter_and_the_pending_entries_are_written_when_it_recovers()
    {
        using var disk = new FakeAuditFileSystem();
        await using (var log = await OpenAsync(fileSystem: disk))
        {
            disk.FailWrites = true;
            var ex = await Assert.ThrowsAsync<AuditLogException>(() => log.RecordDurableAsync(Event(1), CancellationToken.None).AsTask());
            Assert.Contains("No space left on device", ex.Message, StringComparison.Ordinal);
            Assert.False(log.IsWritable);

            // While the disk is full, durable callers fail at once; their entries still wait to be written.
            log.Record(Event(2));
            await Assert.ThrowsAsync<AuditLogException>(() => log.RecordDurableAsync(Event(3), CancellationToken.None).AsTask());

            disk.FailWrites = false;
            var recovered = disk.NextHeadWrite();
            Time.Advance(TimeSpan.FromSeconds(1));
            await recovered.WaitAsync(TestContext.Current.CancellationToken);
            Assert.True(log.IsWritable);
            await log.RecordDurableAsync(Event(4), CancellationToken.None);
        }

        var users = ReadAll(Folder).Where(r => r.Event!.Kind == AuditKinds.Command).Select(r => r.Event!.User);
        Assert.Equal(Enumerable.Range(1, 4).Select(i => $"user-{i}@example.com"), users);
        var result = Assert.Single(Verify().Streams);
        Assert.Null(result.Break);
        Assert.Empty(result.Notes);
    }

    [Fact]
    public async Task A_failed_fsync_abandons_the_file_cut_back_to_what_was_synced_and_writes_the_entries_again_in_a_new_one()
    {
        using var disk = new FakeAuditFileSystem();
        await using (var log = await OpenAsync(fileSystem: disk))
        {
            var syncedLength = new FileInfo(Assert.Single(LogFiles())).Length;
            disk.FailSyncs = true;
            await Assert.ThrowsAsync<AuditLogException>(() => log.RecordDurableAsync(Event(1), CancellationToken.None).AsTask());
            Assert.False(log.IsWritable);
            Assert.Equal(syncedLength, new FileInfo(Assert.Single(LogFiles())).Length);

            disk.FailSyncs = false;
            var recovered = disk.NextHeadWrite();
            Time.Advance(TimeSpan.FromSeconds(1));
            await recovered.WaitAsync(TestContext.Current.CancellationToken);
            Assert.True(log.IsWritable);
        }

        Assert.Equal(2, LogFiles().Length);
        Assert.Contains("user-1@example.com", File.ReadAllText(LogFiles()[1]), StringComparison.Ordinal);
        var result = Assert.Single(Verify().Streams);
        Assert.Null(result.Break);
        Assert.Equal(3, result.Entries);
    }

    [Fact]
    public async Task Entries_written_again_after_a_file_could_not_be_cut_back_are_recognised_as_identical_copies()
    {
        using var disk = new FakeAuditFileSystem();
        await using (var log = await OpenAsync(fileSystem: disk))
        {
            disk.FailSyncs = true;
            disk.FailTruncates = true;
            log.Record(Event(1));
            await Assert.ThrowsAsync<AuditLogException>(() => log.RecordDurableAsync(Event(2), CancellationToken.None).AsTask());

            disk.FailSyncs = false;
            var recovered = disk.NextHeadWrite();
            Time.Advance(TimeSpan.FromSeconds(1));
            await recovered.WaitAsync(TestContext.Current.CancellationToken);
        }

        // Entries 2 and 3 are in both files; the chain is intact and each is read once.
        var files = LogFiles();
        Assert.Contains("user-2@example.com", File.ReadAllText(files[0]), StringComparison.Ordinal);
        Assert.Contains("user-2@example.com", File.ReadAllText(files[1]), StringComparison.Ordinal);
        var result = Assert.Single(Verify().Streams);
        Assert.Null(result.Break);
        Assert.Contains(result.Notes, n => n.StartsWith("entries 2 to 3 appear twice, identical", StringComparison.Ordinal));
        Assert.Equal([1L, 2, 3, 4], ReadAll(Folder).Select(r => r.Sequence));
    }

    [Fact]
    public async Task Entries_beyond_the_pending_limit_are_dropped_and_an_audit_gap_entry_counts_them()
    {
        using var disk = new FakeAuditFileSystem();
        await using (var log = await OpenAsync(Options() with { MaxPendingEntries = 5 }, disk))
        {
            disk.FailWrites = true;
            await Assert.ThrowsAsync<AuditLogException>(() => log.RecordDurableAsync(Event(0), CancellationToken.None).AsTask());
            for (var i = 1; i <= 20; i++)
            {
                log.Record(Event(i));
            }

            disk.FailWrites = false;
            var recovered = disk.NextHeadWrite();
            Time.Advance(TimeSpan.FromSeconds(1));
            await recovered.WaitAsync(TestContext.Current.CancellationToken);
        }

        var read = ReadAll(Folder);
        var gap = Assert.Single(read, r => r.Event!.Kind == AuditKinds.LogGap);
        Assert.Equal("16 entries were lost while the audit log could not be written", gap.Event!.Detail);
        Assert.Equal(
            ["user-0@example.com", "user-1@example.com", "user-2@example.com", "user-3@example.com", "user-4@example.com"],
            read.Where(r => r.Event!.Kind == AuditKinds.Command).Select(r => r.Event!.User));

        // The gap comes before the entries taken after the disk recovered.
        Assert.True(gap.Sequence < read.Single(r => r.Event!.User == "user-1@example.com").Sequence);
        var result = Assert.Single(Verify().Streams);
        Assert.Null(result.Break);
        Assert.Contains(result.Notes, n => n.Contains("16 entries were lost", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_disk_still_full_at_shutdown_does_not_hang_and_the_log_reads_as_not_closed()
    {
        using var disk = new FakeAuditFileSystem();
        var log = await OpenAsync(fileSystem: disk);
        disk.FailWrites = true;
        log.Record(Event(1));
        await log.DisposeAsync();

        var result = Assert.Single(Verify().Streams);
        Assert.Null(result.Break);
        Assert.Equal(1, result.Entries);
        Assert.Contains(result.Notes, n => n.Contains("does not end with audit.stop", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_log_that_cannot_write_its_start_entry_does_not_open_and_leaves_the_stream_free()
    {
        using var disk = new FakeAuditFileSystem { FailWrites = true };
        await Assert.ThrowsAsync<AuditLogException>(() => OpenAsync(fileSystem: disk));

        await using var log = await OpenAsync();
        Assert.True(log.IsWritable);
    }
}
