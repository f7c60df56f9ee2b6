using Mailroom.Core.Audit;

namespace Mailroom.Core.Tests.Audit;

public sealed class AuditReaderTests : AuditTestBase
{
    [Fact]
    public async Task Two_streams_of_two_nodes_merge_in_timestamp_order_with_ties_by_node_then_stream()
    {
        var nodeA = Options(stream: "server", node: "node-a");
        var nodeB = Options(stream: "cli", node: "node-b");
        await using (var a = await OpenAsync(nodeA))
        await using (var b = await OpenAsync(nodeB))
        {
            a.Record(Event(1, timestamp: Start.AddSeconds(1)));
            b.Record(Event(2, timestamp: Start.AddSeconds(2)));
            a.Record(Event(3, timestamp: Start.AddSeconds(3)));
            b.Record(Event(4, timestamp: Start.AddSeconds(3)));
            a.Record(Event(5, timestamp: Start.AddSeconds(4)));
            b.Record(Event(6, timestamp: Start.AddSeconds(10)));
            a.Record(Event(7, timestamp: Start.AddSeconds(11)));
            Time.Advance(TimeSpan.FromSeconds(20));
        }

        var read = ReadAll(Folder);
        Assert.Equal(
            ["user-1", "user-2", "user-3", "user-4", "user-5", "user-6", "user-7"],
            read.Where(r => r.Event!.Kind == AuditKinds.Command).Select(r => r.Event!.User![..6]));
        Assert.Equal(read.OrderBy(r => r.Timestamp).Select(r => r.Timestamp), read.Select(r => r.Timestamp));

        // Both starts happened at the same instant: node-a's first, then node-b's.
        Assert.Equal([("node-a", "server"), ("node-b", "cli")], read.Take(2).Select(r => (r.Node, r.Stream)));
        Assert.Equal([("node-a", "server"), ("node-b", "cli")], read.TakeLast(2).Select(r => (r.Node, r.Stream)));
    }

    [Fact]
    public async Task A_filter_picks_out_entries_across_streams_and_files()
    {
        await WriteRunAsync(5);
        await WriteRunAsync(5, first: 6, newFile: true);
        await WriteRunAsync(5, first: 11, options: Options(stream: "cli"));

        var filter = new AuditFilter { User = "user-7@example.com" };
        var one = Assert.Single(ReadAll(Folder, filter: filter));
        Assert.Equal(("server", 10L, LogFiles("server")[1], 3), (one.Stream, one.Sequence, one.File, one.Line));

        var starts = ReadAll(Folder, filter: new AuditFilter { Kinds = ["audit"] });
        Assert.Equal(6, starts.Count);
    }

    [Fact]
    public async Task Single_files_read_like_folders_and_a_missing_path_is_an_audit_log_exception()
    {
        await WriteRunAsync(2);
        await WriteRunAsync(2, first: 3, newFile: true);

        Assert.Equal([5L, 6, 7, 8], ReadAll(LogFiles()[1]).Select(r => r.Sequence));
        Assert.Throws<AuditLogException>(() => ReadAll(Path.Combine(Folder, "nothing-here")));
    }

    [Fact]
    public async Task A_damaged_line_is_reported_in_place_and_reading_goes_on()
    {
        await WriteRunAsync(3);
        var file = Assert.Single(LogFiles());
        var lines = File.ReadAllLines(file);
        lines[2] = "not json at all";
        File.WriteAllLines(file, [.. lines[..3], "", .. lines[3..]]);

        var read = ReadAll(Folder);
        Assert.Equal(5, read.Count);
        var damaged = read[2];
        Assert.Null(damaged.Event);
        Assert.Equal((0L, 3), (damaged.Sequence, damaged.Line));
        Assert.StartsWith("not an audit entry", damaged.Problem, StringComparison.Ordinal);
        Assert.Equal(5, read[4].Line - 1); // the blank line counts as a line but is no entry
    }

    [Fact]
    public async Task Stopping_early_closes_the_files()
    {
        await WriteRunAsync(3);
        await WriteRunAsync(3, first: 4);

        _ = AuditReader.Read([Folder], new AuditKeyring()).First();

        foreach (var file in LogFiles())
        {
            using var exclusive = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        }
    }
}
