using System.Text;
using System.Text.Json;
using Mailroom.Core.Audit;

namespace Mailroom.Core.Tests.Audit;

public sealed class FileAuditLogTests : AuditTestBase
{
    private static AuditEvent FullEvent() => new()
    {
        Kind = AuditKinds.Message,
        Outcome = AuditOutcome.Deferred,
        Timestamp = Start.AddSeconds(5),
        Session = "session-1",
        Client = "[2001:db8::1]:53211",
        Listener = "submission",
        User = "alice@example.com",
        Command = "DATA",
        Arguments = AuditEvent.Redacted + " \"quoted\" \\ é",
        Reply = "451 4.3.0",
        Mailbox = "alice@example.com",
        MessageId = "01JD5XYZ",
        Size = 12345,
        Recipients = ["alice@example.com", "bob@example.com"],
        Detail = "line one\nline two",
    };

    [Fact]
    public async Task An_entry_in_the_clear_is_one_json_line_with_the_fields_in_order_and_reads_back_whole()
    {
        await using (var log = await OpenAsync())
        {
            await log.RecordDurableAsync(FullEvent(), CancellationToken.None);
        }

        var lines = File.ReadAllLines(Assert.Single(LogFiles()));
        Assert.Equal(3, lines.Length); // audit.start, the message, audit.stop
        using var json = JsonDocument.Parse(lines[1]);
        Assert.Equal(
            ["seq", "ts", "node", "kind", "outcome", "session", "client", "listener", "user", "command", "args", "reply", "mailbox", "message", "size", "rcpt", "detail", "prev", "mac"],
            json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("2026-11-28T18:30:05.000Z", json.RootElement.GetProperty("ts").GetString());
        Assert.Equal("deferred", json.RootElement.GetProperty("outcome").GetString());
        Assert.Contains("\"args\":\"<redacted>", lines[1], StringComparison.Ordinal);

        var read = ReadAll(Folder);
        Assert.Equal([1L, 2, 3], read.Select(r => r.Sequence));
        Assert.Equal(FullEvent() with { Recipients = null }, read[1].Event! with { Recipients = null });
        Assert.Equal(["alice@example.com", "bob@example.com"], read[1].Event!.Recipients!);
        Assert.All(read, r => Assert.Equal("node-a", r.Node));
        Assert.All(read, r => Assert.Null(r.Problem));
    }

    public static TheoryData<string> Ciphers => ["aes-256-gcm", "caesar"];

    [Theory]
    [MemberData(nameof(Ciphers))]
    public async Task An_encrypted_entry_hides_its_fields_and_reads_back_with_the_keyring(string name)
    {
        IAuditCipher cipher = name == "caesar" ? new CaesarAuditCipher(13) : new AesGcmAuditCipher(AuditKeys_New());
        await using (var log = await OpenAsync(Options(cipher)))
        {
            await log.RecordDurableAsync(FullEvent(), CancellationToken.None);
        }

        var text = File.ReadAllText(Assert.Single(LogFiles()));
        Assert.DoesNotContain("alice@example.com", text, StringComparison.Ordinal);
        Assert.Contains($"\"cipher\":\"{name}\",\"key\":\"{cipher.KeyId}\",\"data\":", text, StringComparison.Ordinal);

        var keyring = new AuditKeyring();
        keyring.Add(cipher);
        var read = ReadAll(Folder, keyring);
        var message = Assert.Single(read, r => r.Event?.Kind == AuditKinds.Message);
        Assert.Equal(FullEvent() with { Recipients = null }, message.Event! with { Recipients = null });
        Assert.True(Verify().Intact);
    }

    [Fact]
    public async Task The_logs_own_entries_stay_in_the_clear_so_the_verifier_needs_no_key()
    {
        await WriteRunAsync(2, options: Options(new AesGcmAuditCipher(AuditKeys_New())));

        var lines = File.ReadAllLines(Assert.Single(LogFiles()));
        Assert.Contains("\"kind\":\"audit.start\"", lines[0], StringComparison.Ordinal);
        Assert.Contains("\"cipher\":\"aes-256-gcm\"", lines[1], StringComparison.Ordinal);
        Assert.Contains("\"kind\":\"audit.stop\"", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Old_entries_stay_readable_after_the_key_changes_and_a_missing_key_is_a_problem_not_an_exception()
    {
        var key1 = new AesGcmAuditCipher(AuditKeys_New());
        var key2 = new AesGcmAuditCipher(AuditKeys_New());
        await WriteRunAsync(3, first: 1, options: Options(key1));
        await WriteRunAsync(3, first: 4, options: Options(key2));
        await WriteRunAsync(1, first: 7, options: Options(new CaesarAuditCipher(3)));

        var both = new AuditKeyring();
        both.Add(key1);
        both.Add(key2);
        var users = ReadAll(Folder, both).Where(r => r.Event?.Kind == AuditKinds.Command).Select(r => r.Event!.User);
        Assert.Equal(Enumerable.Range(1, 7).Select(i => $"user-{i}@example.com"), users);

        var onlyKey2 = new AuditKeyring();
        onlyKey2.Add(key2);
        var read = ReadAll(Folder, onlyKey2);
        var unreadable = read.Where(r => r.Event is null).ToList();
        Assert.Equal(3, unreadable.Count);
        Assert.All(unreadable, r => Assert.Equal($"no key {key1.KeyId} for aes-256-gcm", r.Problem));
        Assert.Equal(4, read.Count(r => r.Event?.Kind == AuditKinds.Command));
        Assert.True(Verify().Intact);
    }

    [Fact]
    public async Task The_chain_continues_across_restarts_and_each_start_says_where_it_continues_from()
    {
        await WriteRunAsync(3);
        await WriteRunAsync(3, first: 4);
        await WriteRunAsync(3, first: 7);

        // Each run ended cleanly, so the next one went on with the same file.
        var file = Assert.Single(LogFiles());
        var result = Assert.Single(Verify().Streams);
        Assert.Null(result.Break);
        Assert.Empty(result.Notes);
        Assert.Equal((15L, 1, 1L, 15L), (result.Entries, result.Files, result.FirstSequence, result.LastSequence));

        var starts = ReadAll(Folder).Where(r => r.Event!.Kind == AuditKinds.LogStart).Select(r => r.Event!.Detail).ToList();
        Assert.StartsWith("a new log; cipher none", starts[0], StringComparison.Ordinal);
        Assert.StartsWith($"continues from entry 5 in {Path.GetFileName(file)}", starts[1], StringComparison.Ordinal);
        Assert.StartsWith($"continues from entry 10 in {Path.GetFileName(file)}", starts[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_restart_never_appends_after_a_torn_last_line_and_skips_it()
    {
        await WriteRunAsync(2);
        var first = Assert.Single(LogFiles());
        var before = File.ReadAllBytes(first);
        const string torn = "{\"seq\":5,\"ts\":\"2026-11-28T18:3";
        File.AppendAllText(first, torn);

        await WriteRunAsync(2, first: 3);

        Assert.Equal(before.Length + torn.Length, new FileInfo(first).Length);
        var result = Assert.Single(Verify().Streams);
        Assert.Null(result.Break);
        Assert.Equal(8, result.Entries);
        Assert.Contains(result.Notes, n => n.Contains("torn line", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_file_past_the_size_limit_rotates_and_the_chain_runs_across_the_files()
    {
        await using (var log = await OpenAsync(Options() with { MaxFileSize = 1500 }))
        {
            for (var i = 1; i <= 30; i++)
            {
                await log.RecordDurableAsync(Event(i), CancellationToken.None);
            }
        }

        var files = LogFiles();
        Assert.True(files.Length >= 5, $"{files.Length} files");
        Assert.All(files[..^1], f => Assert.InRange(new FileInfo(f).Length, 1500, 1500 + 600));
        var result = Assert.Single(Verify().Streams);
        Assert.Null(result.Break);
        Assert.Equal(files.Length, result.Files);
        Assert.Equal(32, result.Entries);
        Assert.Equal(Enumerable.Range(1, 32).Select(i => (long)i), ReadAll(Folder).Select(r => r.Sequence));
    }

    [Fact]
    public async Task A_new_utc_day_starts_a_new_file_named_after_the_day()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2026, 11, 28, 23, 59, 0, TimeSpan.Zero));
        await using (var log = await FileAuditLog.OpenAsync(Options(), time))
        {
            await log.RecordDurableAsync(Event(1), CancellationToken.None);
            time.Advance(TimeSpan.FromMinutes(2));
            await log.RecordDurableAsync(Event(2), CancellationToken.None);
        }

        Assert.Equal(["server-20261128-0001.jsonl", "server-20261129-0001.jsonl"], LogFiles().Select(Path.GetFileName));
        var result = Assert.Single(Verify().Streams);
        Assert.Null(result.Break);
        Assert.Equal((4L, 2), (result.Entries, result.Files));
    }

    [Fact]
    public async Task A_clock_stepped_back_across_midnight_never_names_a_file_after_an_earlier_day()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2026, 11, 28, 23, 59, 0, TimeSpan.Zero));
        var options = Options() with { ContinueNewestFile = false };
        await using (var log = await FileAuditLog.OpenAsync(options, time))
        {
            await log.RecordDurableAsync(Event(1), CancellationToken.None);
            time.Advance(TimeSpan.FromMinutes(2));
            await log.RecordDurableAsync(Event(2), CancellationToken.None);
            time.Advance(TimeSpan.FromDays(-1));
            await log.RecordDurableAsync(Event(3), CancellationToken.None);
        }

        // A restart while the clock is still behind, then the clock comes forward again.
        await using (var log = await FileAuditLog.OpenAsync(options, time))
        {
            await log.RecordDurableAsync(Event(4), CancellationToken.None);
        }

        time.Advance(TimeSpan.FromDays(1));
        await using (var log = await FileAuditLog.OpenAsync(options, time))
        {
            await log.RecordDurableAsync(Event(5), CancellationToken.None);
        }

        Assert.Equal(
            ["server-20261128-0001.jsonl", "server-20261129-0001.jsonl", "server-20261129-0002.jsonl", "server-20261129-0003.jsonl"],
            LogFiles().Select(Path.GetFileName));
        var result = Assert.Single(Verify().Streams);
        Assert.Null(result.Break);
        Assert.Equal(Enumerable.Range(1, 11).Select(i => (long)i), ReadAll(Folder).Select(r => r.Sequence));
        var users = ReadAll(Folder).Where(r => r.Event!.Kind == AuditKinds.Command).Select(r => r.Event!.User);
        Assert.Equal(Enumerable.Range(1, 5).Select(i => $"user-{i}@example.com"), users);
    }

    [Fact]
    public async Task A_writer_continues_from_the_highest_entry_even_when_a_later_file_is_named_after_an_earlier_day()
    {
        await WriteRunAsync(2);
        await WriteRunAsync(2, first: 3, newFile: true);

        // As a writer whose clock stepped back across midnight used to name its file.
        File.Move(LogFiles()[1], Path.Combine(Folder, "server-20261127-0001.jsonl"));

        await using (var log = await OpenAsync())
        {
            Assert.Equal(9, log.LastSequence);
        }

        var start = ReadAll(Folder).Last(r => r.Event!.Kind == AuditKinds.LogStart);
        Assert.Equal(9, start.Sequence);
        Assert.StartsWith("continues from entry 8 in server-20261127-0001.jsonl", start.Event!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_run_on_the_same_day_takes_the_next_number_unless_the_last_file_ended_cleanly()
    {
        await WriteRunAsync(1);
        await WriteRunAsync(1, first: 2);
        Assert.Equal(["server-20261128-0001.jsonl"], LogFiles().Select(Path.GetFileName));

        // A head anchor that lags (a crash before it was written) is no proof the file ended cleanly.
        var head = Path.Combine(Folder, "server.head");
        var lagging = File.ReadAllBytes(head);
        await WriteRunAsync(1, first: 3);
        File.WriteAllBytes(head, lagging);
        await WriteRunAsync(1, first: 4);

        Assert.Equal(["server-20261128-0001.jsonl", "server-20261128-0002.jsonl"], LogFiles().Select(Path.GetFileName));
        Assert.Null(Assert.Single(Verify().Streams).Break);
    }

    [Fact]
    public async Task A_new_log_puts_its_head_anchor_on_disk_before_its_first_entry()
    {
        using var disk = new FakeAuditFileSystem();
        await using (await OpenAsync(fileSystem: disk))
        {
            Assert.Equal(["fsynced server.head", "synced folder", "created server-20261128-0001.jsonl"], disk.Steps.Take(3));
        }

        // A writer that could not write its first entry still leaves the head anchor, naming entry 0.
        Directory.Delete(Root, recursive: true);
        using var full = new FakeAuditFileSystem { FailWrites = true };
        await Assert.ThrowsAsync<AuditLogException>(() => OpenAsync(fileSystem: full));
        Assert.Contains("\"seq\":0,", File.ReadAllText(Path.Combine(Folder, "server.head")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_head_anchor_is_rewritten_in_place_at_one_fixed_size()
    {
        await WriteRunAsync(1);
        var path = Path.Combine(Folder, "server.head");

        // A handle opened now sees the later anchor only if it is written into the same file, not renamed over it.
        using var earlier = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        var before = new byte[256];
        earlier.ReadExactly(before);
        await WriteRunAsync(12, first: 2);

        var after = new byte[256];
        earlier.Position = 0;
        earlier.ReadExactly(after);
        Assert.NotEqual(before, after);
        Assert.Equal(after, File.ReadAllBytes(path));
        Assert.Equal((byte)'\n', after[^1]);
        Assert.Null(Assert.Single(Verify().Streams).Break);
    }

    [Fact]
    public async Task A_durable_record_returns_only_after_its_fsync()
    {
        using var disk = new FakeAuditFileSystem();
        await using var log = await OpenAsync(fileSystem: disk);
        var syncsBefore = disk.Syncs;
        using var hold = disk.HoldSyncs();
        var syncStarted = disk.NextSyncStarted();

        var durable = log.RecordDurableAsync(Event(1), CancellationToken.None).AsTask();
        await syncStarted.WaitAsync(TestContext.Current.CancellationToken);

        // Written, but not yet fsynced: the caller must still be waiting.
        Assert.Contains("user-1@example.com", File.ReadAllText(Assert.Single(LogFiles())), StringComparison.Ordinal);
        Assert.False(durable.IsCompleted);
        Assert.Equal(syncsBefore, disk.Syncs);

        hold.Dispose();
        await durable;
        Assert.Equal(syncsBefore + 1, disk.Syncs);
        Assert.Equal(2, log.LastSequence);
    }

    /// <summary>
    /// Regression: the fsync's waiters were released before the log's last sequence moved on, so a
    /// caller (OpenAsync among them) could find the log short of its own entry, now and then
    /// (seen as a flaky A_writer_continues_from_the_highest_entry_even_when_a_later_file_is_named_after_an_earlier_day).
    /// </summary>
    [Fact]
    public async Task A_durable_record_that_returned_is_counted_in_the_last_sequence()
    {
        using var disk = new FakeAuditFileSystem();
        await using var log = await OpenAsync(fileSystem: disk);
        var expected = log.LastSequence;
        var behind = 0;
        for (var i = 0; i < 5_000; i++)
        {
            await log.RecordDurableAsync(Event(i), CancellationToken.None);
            expected++;
            behind += log.LastSequence < expected ? 1 : 0;
        }

        Assert.Equal(0, behind);
    }

    [Fact]
    public async Task Concurrent_durable_records_share_one_fsync()
    {
        using var disk = new FakeAuditFileSystem();
        await using var log = await OpenAsync(fileSystem: disk);
        var syncsBefore = disk.Syncs;
        using var hold = disk.HoldSyncs();
        var syncStarted = disk.NextSyncStarted();
        var first = log.RecordDurableAsync(Event(0), CancellationToken.None).AsTask();
        await syncStarted.WaitAsync(TestContext.Current.CancellationToken);

        // While the first fsync is under way, fifty more callers queue up.
        var rest = Enumerable.Range(1, 50).Select(i => log.RecordDurableAsync(Event(i), CancellationToken.None).AsTask()).ToList();
        hold.Dispose();
        await Task.WhenAll(rest.Append(first));

        Assert.Equal(2, disk.Syncs - syncsBefore);
    }

    [Fact]
    public async Task A_plain_record_alone_waits_and_is_written_and_fsynced_when_the_flush_interval_is_up()
    {
        using var disk = new FakeAuditFileSystem();
        await using var log = await OpenAsync(Options() with { FlushInterval = TimeSpan.FromSeconds(2) }, disk);
        var syncsBefore = disk.Syncs;
        var writesBefore = disk.Writes;
        var synced = disk.NextSuccessfulSync();

        // The head anchor naming entry 2 is the last step of the batch that writes it, after its
        // fsync and after LastSequence moves on. Neither the fsync's own signal (it comes before
        // LastSequence) nor "the next head write" (the open's batch may still be writing its own)
        // can be what we wait for.
        var batchDone = disk.HeadWritten(2);

        log.Record(Event(1));
        Time.Advance(TimeSpan.FromSeconds(1));
        await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.Equal(writesBefore, disk.Writes);
        Assert.False(synced.IsCompleted);
        Assert.Equal(1, log.LastSequence);

        Time.Advance(TimeSpan.FromSeconds(1));
        await batchDone.WaitAsync(TestContext.Current.CancellationToken);
        Assert.True(synced.IsCompleted);
        Assert.Equal(writesBefore + 1, disk.Writes);
        Assert.Equal(syncsBefore + 1, disk.Syncs);
        Assert.Equal(2, log.LastSequence);
    }

    [Fact]
    public async Task Plain_records_do_not_wake_the_writer_and_go_to_disk_in_one_write_with_the_next_durable_one()
    {
        using var disk = new FakeAuditFileSystem();
        await using var log = await OpenAsync(Options(), disk);
        var writesBefore = disk.Writes;

        // Far apart in time, so a writer woken by each would have written each on its own.
        for (var i = 1; i <= 3; i++)
        {
            log.Record(Event(i));
            await Task.Delay(30, TestContext.Current.CancellationToken);
        }

        Assert.Equal(writesBefore, disk.Writes);
        await log.RecordDurableAsync(Event(4), CancellationToken.None);
        Assert.Equal(writesBefore + 1, disk.Writes);
        Assert.Equal(5, log.LastSequence);
    }

    [Fact]
    public async Task A_pile_of_plain_records_wakes_the_writer_without_the_timer_and_none_is_lost()
    {
        using var disk = new FakeAuditFileSystem();
        await using var log = await OpenAsync(Options() with { FlushInterval = TimeSpan.FromHours(1) }, disk);
        var writesBefore = disk.Writes;

        for (var i = 1; i <= 1100; i++)
        {
            log.Record(Event(i));
        }

        // Two piles of 512 have woken it; the last 76 wait for the timer or a durable entry.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (disk.Writes < writesBefore + 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        Assert.InRange(disk.Writes, writesBefore + 1, writesBefore + 2);
        await log.DisposeAsync();
        var commands = ReadAll(Folder).Where(r => r.Event!.Kind == AuditKinds.Command).ToList();
        Assert.Equal(1100, commands.Count);
        Assert.True(Verify().Intact);
    }

    [Fact]
    public async Task A_second_writer_of_the_same_stream_is_refused_and_another_stream_is_not()
    {
        await using var first = await OpenAsync();

        var ex = await Assert.ThrowsAsync<AuditLogException>(() => OpenAsync());
        Assert.Contains("in use by another writer", ex.Message, StringComparison.Ordinal);

        await using var other = await OpenAsync(Options(stream: "cli"));
        Assert.True(other.IsWritable);
    }

    [Fact]
    public async Task A_writer_with_a_lock_timeout_gets_the_stream_when_the_first_closes()
    {
        var first = await OpenAsync();
        var second = OpenAsync(Options() with { LockTimeout = TimeSpan.FromSeconds(30) });
        Assert.False(second.IsCompleted);

        await first.DisposeAsync();
        await using var log = await second;
        Assert.True(log.IsWritable);
        Assert.True(Verify().Intact);
    }

    [Fact]
    public async Task Dispose_writes_audit_stop_once_and_records_after_it_are_refused()
    {
        var log = await OpenAsync();
        log.Record(Event(1));
        await log.DisposeAsync();
        await log.DisposeAsync();

        log.Record(Event(2));
        await Assert.ThrowsAsync<AuditLogException>(() => log.RecordDurableAsync(Event(3), CancellationToken.None).AsTask());
        var kinds = ReadAll(Folder).Select(r => r.Event!.Kind);
        Assert.Equal([AuditKinds.LogStart, AuditKinds.Command, AuditKinds.LogStop], kinds);
    }

    [Fact]
    public async Task Closing_writes_a_backlog_larger_than_one_batch_and_ends_with_audit_stop()
    {
        using var disk = new FakeAuditFileSystem();
        var log = await OpenAsync(fileSystem: disk);
        var hold = disk.HoldSyncs();
        try
        {
            // The loop is held in an fsync while 20,000 entries queue up behind it and the log is closed.
            var syncStarted = disk.NextSyncStarted();
            var blocker = log.RecordDurableAsync(Event(0), CancellationToken.None).AsTask();
            await syncStarted.WaitAsync(TestContext.Current.CancellationToken);
            for (var i = 1; i <= 20_000; i++)
            {
                log.Record(Event(i));
            }

            var closing = log.DisposeAsync().AsTask();
            hold.Dispose();
            await Task.WhenAll(blocker, closing);
        }
        finally
        {
            hold.Dispose();
        }

        var read = ReadAll(Folder);
        Assert.Equal(20_003, read.Count);
        Assert.Equal(AuditKinds.LogStop, read[^1].Event!.Kind);
        Assert.True(Verify().Intact);
    }

    [Fact]
    public async Task The_folder_and_files_are_private_to_the_owner()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("Unix file modes");
            return;
        }

        await WriteRunAsync(1);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Folder));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Assert.Single(LogFiles())));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Folder, "server.head")));
    }

    [Fact]
    public async Task A_folder_that_cannot_be_made_is_an_audit_log_exception()
    {
        Directory.CreateDirectory(Root);
        File.WriteAllText(Folder, "a file where the folder should be");

        var ex = await Assert.ThrowsAsync<AuditLogException>(() => OpenAsync());
        Assert.Contains(Folder, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Options_that_cannot_work_are_refused_at_open()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => OpenAsync(Options() with { ChainKey = new byte[16] }));
        await Assert.ThrowsAsync<ArgumentException>(() => OpenAsync(Options(stream: "../escape")));
    }

    [Fact]
    public async Task A_line_longer_than_the_read_buffer_reads_and_verifies()
    {
        var detail = new string('x', 300_000);
        await using (var log = await OpenAsync())
        {
            log.Record(Event(1) with { Detail = detail });
            for (var i = 2; i < 2000; i++)
            {
                log.Record(Event(i));
            }
        }

        Assert.True(new FileInfo(Assert.Single(LogFiles())).Length > 1_000_000);
        var read = ReadAll(Folder);
        Assert.Equal(2001, read.Count);
        Assert.Equal(detail, read[1].Event!.Detail);
        Assert.True(Verify().Intact);
    }

    [Fact]
    public async Task A_lone_surrogate_in_an_event_does_not_stop_the_log()
    {
        await using (var log = await OpenAsync())
        {
            await log.RecordDurableAsync(Event(1) with { Arguments = "bad \uD800 text" }, CancellationToken.None);
        }

        Assert.Equal("bad \uFFFD text", ReadAll(Folder)[1].Event!.Arguments);
    }

    private static byte[] AuditKeys_New() => System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
}
