using System.Security.Cryptography;
using Mailroom.Core.Audit;

namespace Mailroom.Core.Tests.Audit;

/// <summary>
/// Issue 5, item 6: "verify detects each kind of tampering". Each test writes a real log, changes
/// it as an intruder with access to the files but not the chain key would, and checks that
/// verify names the right kind of break at the right file, line and entry.
/// </summary>
public sealed class TamperTests : AuditTestBase
{
    // One run: line 1 audit.start (entry 1), lines 2-11 events 1-10 (entries 2-11), line 12 audit.stop (entry 12).
    private async Task<string> OneRunAsync(IAuditCipher? cipher = null)
    {
        await WriteRunAsync(10, options: Options(cipher));
        return Assert.Single(LogFiles());
    }

    private static void Rewrite(string file, Func<List<string>, List<string>> change) =>
        File.WriteAllLines(file, change([.. File.ReadAllLines(file)]));

    private AuditBreak BreakOf()
    {
        var result = Verify();
        Assert.False(result.Intact);
        return Assert.Single(result.Streams).Break!;
    }

    [Fact]
    public async Task An_untouched_log_verifies_intact_with_nothing_to_note()
    {
        await OneRunAsync();

        var result = Verify();
        Assert.True(result.Intact);
        var stream = Assert.Single(result.Streams);
        Assert.Equal((12L, 1, 1L, 12L), (stream.Entries, stream.Files, stream.FirstSequence, stream.LastSequence));
        Assert.Empty(stream.Notes);
    }

    [Fact]
    public async Task An_edited_field_is_found_at_its_entry()
    {
        var file = await OneRunAsync();
        Rewrite(file, lines =>
        {
            lines[5] = lines[5].Replace("user-5@example.com", "mallory@example.com", StringComparison.Ordinal);
            return lines;
        });

        var broken = BreakOf();
        Assert.Equal((file, 6, 6L, AuditBreakKind.Edited), (broken.File, broken.Line, broken.Sequence, broken.Kind));
        Assert.Equal("entry 6's hash does not match its content: it was edited", broken.Message);
    }

    [Fact]
    public async Task An_edited_byte_in_an_encrypted_entry_is_found_by_the_chain_and_does_not_decrypt()
    {
        var cipher = new AesGcmAuditCipher(RandomNumberGenerator.GetBytes(32));
        var file = await OneRunAsync(cipher);
        Rewrite(file, lines =>
        {
            var data = lines[5].IndexOf("\"data\":\"", StringComparison.Ordinal) + 20;
            lines[5] = lines[5][..data] + (lines[5][data] == 'A' ? 'B' : 'A') + lines[5][(data + 1)..];
            return lines;
        });

        var broken = BreakOf();
        Assert.Equal((6, 6L, AuditBreakKind.Edited), (broken.Line, broken.Sequence, broken.Kind));

        var keyring = new AuditKeyring();
        keyring.Add(cipher);
        var read = ReadAll(Folder, keyring);
        Assert.Null(read.Single(r => r.Sequence == 6).Event);
        Assert.Contains("altered", read.Single(r => r.Sequence == 6).Problem, StringComparison.Ordinal);
        Assert.NotNull(read.Single(r => r.Sequence == 7).Event);
    }

    [Fact]
    public async Task Encrypted_data_moved_to_another_entry_does_not_decrypt_there()
    {
        var cipher = new AesGcmAuditCipher(RandomNumberGenerator.GetBytes(32));
        var file = await OneRunAsync(cipher);
        static string Data(string line)
        {
            var start = line.IndexOf("\"data\":\"", StringComparison.Ordinal) + 8;
            return line[start..line.IndexOf('"', start)];
        }

        Rewrite(file, lines =>
        {
            lines[5] = lines[5].Replace(Data(lines[5]), Data(lines[6]), StringComparison.Ordinal);
            return lines;
        });

        var keyring = new AuditKeyring();
        keyring.Add(cipher);
        Assert.Null(ReadAll(Folder, keyring).Single(r => r.Sequence == 6).Event);
        Assert.Equal(AuditBreakKind.Edited, BreakOf().Kind);
    }

    [Fact]
    public async Task A_deleted_line_is_found_where_the_gap_is()
    {
        var file = await OneRunAsync();
        Rewrite(file, lines =>
        {
            lines.RemoveAt(5);
            return lines;
        });

        var broken = BreakOf();
        Assert.Equal((file, 6, 7L, AuditBreakKind.Removed), (broken.File, broken.Line, broken.Sequence, broken.Kind));
        Assert.StartsWith("entry 6 is missing before line 6 of ", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Several_deleted_lines_are_named_as_a_range()
    {
        var file = await OneRunAsync();
        Rewrite(file, lines =>
        {
            lines.RemoveRange(3, 4);
            return lines;
        });

        var broken = BreakOf();
        Assert.Equal((4, 8L, AuditBreakKind.Removed), (broken.Line, broken.Sequence, broken.Kind));
        Assert.StartsWith("entries 4 to 7 are missing", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_swapped_lines_are_found_as_reordered()
    {
        var file = await OneRunAsync();
        Rewrite(file, lines =>
        {
            (lines[4], lines[5]) = (lines[5], lines[4]);
            return lines;
        });

        var broken = BreakOf();
        Assert.Equal((file, 5, 6L, AuditBreakKind.Reordered), (broken.File, broken.Line, broken.Sequence, broken.Kind));
        Assert.StartsWith("entry 6 comes before entry 5", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_entry_moved_far_back_is_found_as_reordered()
    {
        var file = await OneRunAsync();
        Rewrite(file, lines =>
        {
            var moved = lines[2];
            lines.RemoveAt(2);
            lines.Insert(8, moved);
            return lines;
        });

        var broken = BreakOf();
        Assert.Equal((3, 4L, AuditBreakKind.Reordered), (broken.Line, broken.Sequence, broken.Kind));
    }

    [Fact]
    public async Task A_forged_line_is_found_as_inserted()
    {
        var file = await OneRunAsync();
        Rewrite(file, lines =>
        {
            // A plausible copy of entry 5 with the next number and another user; the intruder cannot make its hash.
            var forged = lines[4].Replace("\"seq\":5,", "\"seq\":6,", StringComparison.Ordinal)
                .Replace("user-4@example.com", "mallory@example.com", StringComparison.Ordinal);
            lines.Insert(5, forged);
            return lines;
        });

        var broken = BreakOf();
        Assert.Equal((file, 6, 6L, AuditBreakKind.Inserted), (broken.File, broken.Line, broken.Sequence, broken.Kind));
        Assert.Contains("it was inserted", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_copy_of_a_genuine_entry_put_back_later_is_found_as_inserted()
    {
        var file = await OneRunAsync();
        Rewrite(file, lines =>
        {
            lines.Insert(7, lines[2]);
            return lines;
        });

        var broken = BreakOf();
        Assert.Equal((8, 3L, AuditBreakKind.Inserted), (broken.Line, broken.Sequence, broken.Kind));
        Assert.StartsWith("entry 3 appears again at line 8", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_genuine_line_from_another_log_is_found_as_inserted()
    {
        var file = await OneRunAsync();
        var otherFolder = Path.Combine(Root, "other");
        await WriteRunAsync(10, options: Options(node: "node-b") with { Folder = otherFolder });
        var alien = File.ReadAllLines(Directory.GetFiles(otherFolder, "*.jsonl").Single())[5];
        Rewrite(file, lines =>
        {
            lines.Insert(5, alien);
            return lines;
        });

        var broken = BreakOf();
        Assert.Equal((6, AuditBreakKind.Inserted), (broken.Line, broken.Kind));
    }

    [Fact]
    public async Task A_deleted_middle_file_is_found_at_the_start_of_the_next()
    {
        await WriteRunAsync(3);
        await WriteRunAsync(3, first: 4, newFile: true);
        await WriteRunAsync(3, first: 7, newFile: true);
        var files = LogFiles();
        File.Delete(files[1]);

        var broken = BreakOf();
        Assert.Equal((files[2], 1, 11L, AuditBreakKind.Removed), (broken.File, broken.Line, broken.Sequence, broken.Kind));
        Assert.StartsWith("entries 6 to 10 are missing before line 1 of ", broken.Message, StringComparison.Ordinal);
        Assert.EndsWith("(perhaps a whole file)", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cut_tail_is_found_by_the_head_anchor()
    {
        var file = await OneRunAsync();
        Rewrite(file, lines => lines[..9]);

        var broken = BreakOf();
        Assert.Equal((file, 10, 10L, AuditBreakKind.Truncated), (broken.File, broken.Line, broken.Sequence, broken.Kind));
        Assert.Contains("entries 10 to 12 are missing", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cut_tail_is_still_found_after_the_next_writer_has_replaced_the_head_anchor()
    {
        var file = await OneRunAsync();
        Rewrite(file, lines => lines[..9]);
        await WriteRunAsync(2, first: 11);

        var broken = BreakOf();
        Assert.Equal((LogFiles()[1], 1, 10L, AuditBreakKind.Truncated), (broken.File, broken.Line, broken.Sequence, broken.Kind));
        Assert.StartsWith("entries 10 to 12 are missing", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cut_tail_hidden_by_deleting_the_head_anchor_is_found()
    {
        var file = await OneRunAsync();
        Rewrite(file, lines => lines[..9]);
        File.Delete(Path.Combine(Folder, "server.head"));

        var broken = BreakOf();
        Assert.Equal((Path.Combine(Folder, "server.head"), AuditBreakKind.Truncated), (broken.File, broken.Kind));
        Assert.Equal("the head anchor server.head is missing: entries cut from the end would not show", broken.Message);
    }

    [Fact]
    public async Task A_cut_tail_hidden_by_spoiling_the_head_anchor_is_found()
    {
        var file = await OneRunAsync();
        Rewrite(file, lines => lines[..9]);
        File.WriteAllText(Path.Combine(Folder, "server.head"), new string(' ', 255) + "\n");

        var broken = BreakOf();
        Assert.Equal(AuditBreakKind.Truncated, broken.Kind);
        Assert.Equal("the head anchor server.head is unreadable: entries cut from the end would not show", broken.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_cut_tail_hidden_by_removing_the_head_anchor_before_a_restart_is_found(bool spoil)
    {
        var file = await OneRunAsync();
        Rewrite(file, lines => lines[..9]);
        var head = Path.Combine(Folder, "server.head");
        if (spoil)
        {
            File.WriteAllText(head, "{}");
        }
        else
        {
            File.Delete(head);
        }

        await WriteRunAsync(2, first: 11);

        var broken = BreakOf();
        Assert.Equal((LogFiles()[1], 1, 10L, AuditBreakKind.Truncated), (broken.File, broken.Line, broken.Sequence, broken.Kind));
        Assert.StartsWith("the head anchor was missing or unreadable when the writer started again at entry 10", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_head_anchor_that_lags_behind_the_log_is_no_break()
    {
        await WriteRunAsync(3);
        var head = Path.Combine(Folder, "server.head");
        var lagging = File.ReadAllBytes(head);
        await WriteRunAsync(3, first: 4);

        // A crash after the fsync and before the head anchor's write leaves it naming an earlier entry.
        File.WriteAllBytes(head, lagging);

        Assert.True(Verify().Intact);
    }

    [Theory]
    [InlineData(false, "head anchor")]
    [InlineData(true, "lock file")]
    public async Task A_whole_deleted_stream_is_found_by_what_it_leaves_behind(bool deleteHead, string left)
    {
        await OneRunAsync();
        await WriteRunAsync(5, options: Options(stream: "cli"));
        foreach (var file in LogFiles("cli"))
        {
            File.Delete(file);
        }

        if (deleteHead)
        {
            File.Delete(Path.Combine(Folder, "cli.head"));
        }

        var result = Verify();
        Assert.False(result.Intact);
        Assert.Null(result.Streams.Single(s => s.Stream == "server").Break);
        var broken = result.Streams.Single(s => s.Stream == "cli").Break!;
        Assert.Equal(AuditBreakKind.Removed, broken.Kind);
        Assert.Equal($"the log files of stream cli are gone but its {left} remains", broken.Message);
    }

    [Fact]
    public async Task A_stream_opened_on_a_full_disk_that_never_wrote_an_entry_is_no_break()
    {
        using var disk = new FakeAuditFileSystem { FailWrites = true };
        await Assert.ThrowsAsync<AuditLogException>(() => OpenAsync(Options(stream: "cli"), disk));
        await OneRunAsync();

        var result = Verify();
        Assert.True(result.Intact);
        Assert.Equal(["cli", "server"], result.Streams.Select(s => s.Stream));
    }

    [Fact]
    public async Task Files_moved_from_another_stream_do_not_verify_as_the_start_of_this_one()
    {
        await WriteRunAsync(5, options: Options(stream: "cli"));
        var moved = Path.Combine(Folder, "server-20261128-0001.jsonl");
        File.Move(Assert.Single(LogFiles("cli")), moved);

        var broken = AuditVerifier.Verify([moved], ChainKey).Streams.Single().Break!;
        Assert.Equal((moved, 1, 1L, AuditBreakKind.Inserted), (broken.File, broken.Line, broken.Sequence, broken.Kind));
        Assert.EndsWith("it does not start the chain of stream server", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_writer_rotating_while_verify_runs_is_not_taken_for_a_cut_tail()
    {
        await WriteRunAsync(3);

        // Between the listing of the files and the end of the check, a writer starts a new file and moves the head anchor on.
        var result = AuditVerifier.Verify([Folder], ChainKey, listed: () => Task.Run(() => WriteRunAsync(3, first: 4, newFile: true)).Wait());

        Assert.True(result.Intact, Assert.Single(result.Streams).Break?.Message);
        Assert.Equal(5, Assert.Single(result.Streams).LastSequence);
        Assert.Equal(2, LogFiles().Length);
    }

    [Fact]
    public async Task A_replaced_head_anchor_is_found_as_edited()
    {
        await OneRunAsync();
        var head = Path.Combine(Folder, "server.head");
        var mac = Convert.ToBase64String(new byte[32]);
        File.WriteAllText(head, $"{{\"seq\":99,\"mac\":\"{mac}\",\"hmac\":\"{mac}\"}}\n");

        var broken = BreakOf();
        Assert.Equal((head, AuditBreakKind.Edited), (broken.File, broken.Kind));
    }

    [Fact]
    public async Task Another_streams_genuine_head_anchor_does_not_pass_for_this_one()
    {
        await OneRunAsync();
        await WriteRunAsync(20, options: Options(stream: "cli"));
        File.Copy(Path.Combine(Folder, "cli.head"), Path.Combine(Folder, "server.head"), overwrite: true);

        var result = Verify();
        Assert.Null(result.Streams.Single(s => s.Stream == "cli").Break);
        Assert.Equal(AuditBreakKind.Edited, result.Streams.Single(s => s.Stream == "server").Break!.Kind);
    }

    [Fact]
    public async Task A_torn_last_line_is_only_a_note()
    {
        var file = await OneRunAsync();
        File.AppendAllText(file, "{\"seq\":13,\"ts\":\"2026-11-28T18:30:00.000Z\",\"node\":\"no");

        var result = Verify();
        Assert.True(result.Intact);
        Assert.Contains(Assert.Single(result.Streams).Notes, n => n.Contains("torn line (line 13), from a crash", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_line_that_is_not_an_entry_is_malformed()
    {
        var file = await OneRunAsync();
        Rewrite(file, lines =>
        {
            lines[3] = "{\"hello\":\"world\"}";
            return lines;
        });

        var broken = BreakOf();
        Assert.Equal((file, 4, (long?)null, AuditBreakKind.Malformed), (broken.File, broken.Line, broken.Sequence, broken.Kind));
    }

    [Fact]
    public async Task The_wrong_chain_key_fails_at_the_first_entry_and_says_it_may_be_the_key()
    {
        await OneRunAsync();

        var result = AuditVerifier.Verify([Folder], RandomNumberGenerator.GetBytes(32));
        var broken = Assert.Single(result.Streams).Break!;
        Assert.Equal((1, AuditBreakKind.Edited), (broken.Line, broken.Kind));
        Assert.Contains("another chain key", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Removed_old_files_are_a_note_that_says_where_the_log_now_starts()
    {
        await WriteRunAsync(3);
        await WriteRunAsync(3, first: 4, newFile: true);
        File.Delete(LogFiles()[0]);

        var result = Verify();
        Assert.True(result.Intact);
        var stream = Assert.Single(result.Streams);
        Assert.Equal(6, stream.FirstSequence);
        Assert.Contains(stream.Notes, n => n.StartsWith("the log starts at entry 6", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_log_still_open_is_intact_with_a_note()
    {
        await using var log = await OpenAsync();
        await log.RecordDurableAsync(Event(1), CancellationToken.None);

        var result = Verify();
        Assert.True(result.Intact);
        Assert.Contains(Assert.Single(result.Streams).Notes, n => n.Contains("writer is running or stopped without closing", StringComparison.Ordinal));
    }

    [Fact]
    public void No_log_at_all_is_not_intact()
    {
        Directory.CreateDirectory(Folder);

        Assert.False(Verify().Intact);
    }

    [Fact]
    public async Task A_single_older_file_verifies_without_the_head_anchor_speaking_for_it()
    {
        await WriteRunAsync(3);
        await WriteRunAsync(3, first: 4, newFile: true);

        var result = AuditVerifier.Verify([LogFiles()[0]], ChainKey);
        Assert.True(result.Intact);
        Assert.Equal(5, Assert.Single(result.Streams).LastSequence);
    }
}
