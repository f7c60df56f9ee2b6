using System.Text;
using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;

namespace Mailroom.Storage.Sqlite.Tests;

/// <summary>Small bodies kept in the database, and the group commit that makes many deliveries durable with one fsync.</summary>
[Collection(typeof(NotInParallel))]
public sealed class InlineBodyTests : TempStore
{
    private static readonly CancellationToken None = CancellationToken.None;

    protected override int InlineBodyLimit => SqliteMailStore.DefaultInlineBodyLimit;

    [Fact]
    public async Task A_small_body_is_a_row_committed_with_its_message_and_no_file_or_directory_is_synced()
    {
        var alice = await AddUserAsync("alice@example.com");
        var steps = new Steps();
        Store.CommitRecorder = steps;
        var body = Encoding.ASCII.GetBytes("Subject: small\r\n\r\nhello\r\n");

        var id = await DeliverAsync(body, alice);

        Assert.Equal([(CommitStep.RowCommitted, id)], steps.Recorded);
        Assert.Empty(Directory.GetFiles(MessagesDirectory, "*.eml", SearchOption.AllDirectories));
        await ReopenAsync();
        Assert.Equal("small", Assert.Single(await Store.ListMessagesAsync(null, None)).Subject);
        Assert.Equal(body, await ReadAsync(id));
    }

    [Fact]
    public async Task A_body_at_the_limit_is_a_row_and_one_octet_more_is_a_file()
    {
        var alice = await AddUserAsync("alice@example.com");
        var atLimit = Body(SqliteMailStore.DefaultInlineBodyLimit);
        var overLimit = Body(SqliteMailStore.DefaultInlineBodyLimit + 1);

        var inline = await DeliverAsync(atLimit, alice);
        var file = await DeliverAsync(overLimit, alice);

        var files = Directory.GetFiles(MessagesDirectory, "*.eml", SearchOption.AllDirectories);
        Assert.Equal(file + ".eml", Path.GetFileName(Assert.Single(files)));
        Assert.Equal(atLimit, await ReadAsync(inline));
        Assert.Equal(overLimit, await ReadAsync(file));
    }

    [Fact]
    public async Task Deliveries_ready_while_a_commit_waits_share_the_next_transaction()
    {
        const int Deliveries = 20;
        var alice = await AddUserAsync("alice@example.com");
        Task<string> first;
        Task<string>[] others;
        using (HoldWriteLock())
        {
            // The first delivery's transaction waits for the lock (busy_timeout); the others queue behind it.
            first = Task.Run(() => DeliverAsync(Body(1000), alice));
            await WaitForAsync(() => Store.GroupCommit.Writing == 1);
            others = [.. Enumerable.Range(1, Deliveries - 1).Select(i => Task.Run(() => DeliverAsync(Body(1000 + i), alice)))];
            await WaitForAsync(() => Store.GroupCommit.Pending == Deliveries);
        }

        var ids = await Task.WhenAll(others.Prepend(first));

        // Two transactions, so two fsyncs of the WAL, for twenty deliveries.
        Assert.Equal(Deliveries - 1, Store.GroupCommit.LargestBatch);
        Assert.Equal(ids.Order(), (await Store.ListMessagesAsync(null, None)).Select(s => s.MessageId).Order());
    }

    [Fact]
    public async Task One_bad_delivery_in_a_group_fails_alone()
    {
        var alice = await AddUserAsync("alice@example.com");
        var stored = await DeliverAsync(Body(500), alice);
        Task<string>[] good;
        Task duplicate;
        using (HoldWriteLock())
        {
            var first = Task.Run(() => DeliverAsync(Body(600), alice));
            await WaitForAsync(() => Store.GroupCommit.Writing == 1);

            // Five good deliveries and an id stored already (inline, so no file refuses it early) queue as one group.
            good = [first, .. Enumerable.Range(0, 5).Select(i => Task.Run(() => DeliverAsync(Body(800 + i), alice)))];
            duplicate = Task.Run(async () =>
            {
                var envelope = new MessageEnvelope(stored, "sender@example.net", [new EnvelopeRecipient(alice, alice.Address)], DateTimeOffset.UtcNow);
                await using var writer = await Store.BeginMessageAsync(envelope, None);
                await writer.WriteAsync(Body(700), None);
                await writer.CommitAsync(None);
            });
            await WaitForAsync(() => Store.GroupCommit.Pending == 7);
        }

        await Assert.ThrowsAsync<DirectoryConflictException>(() => duplicate);
        var ids = await Task.WhenAll(good);
        Assert.Equal(6, Store.GroupCommit.LargestBatch);
        Assert.Equal(ids.Append(stored).Order(), (await Store.ListMessagesAsync(null, None)).Select(s => s.MessageId).Order());
        Assert.Equal(Body(500), await ReadAsync(stored));
    }

    [Fact]
    public async Task Closing_the_store_lets_the_deliveries_already_queued_commit_and_refuses_new_ones()
    {
        var alice = await AddUserAsync("alice@example.com");
        Task<string>[] queued;
        Task closing;
        using (HoldWriteLock())
        {
            queued = [.. Enumerable.Range(0, 10).Select(i => Task.Run(() => DeliverAsync(Body(900 + i), alice)))];
            await WaitForAsync(() => Store.GroupCommit.Pending == 10);
            closing = Store.DisposeAsync().AsTask();
        }

        await closing;
        var ids = await Task.WhenAll(queued);
        await Assert.ThrowsAsync<StorageException>(() => Store.GroupCommit.CommitAsync(
            new PendingDelivery(new MessageEnvelope(MessageIds.New(), "s@example.net", [new EnvelopeRecipient(alice, alice.Address)], DateTimeOffset.UtcNow), string.Empty, [1], 1, null)));
        await ReopenAsync();
        Assert.Equal(ids.Order(), (await Store.ListMessagesAsync(null, None)).Select(s => s.MessageId).Order());
    }

    /// <summary>Waits (at most 4 s, under busy_timeout's 5 s) for the group commit to reach a state.</summary>
    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var waited = 0; !condition() && waited < 400; waited++)
        {
            await Task.Delay(10, None);
        }

        Assert.True(condition());
    }

    private static byte[] Body(int size)
    {
        var body = new byte[size];
        new Random(size).NextBytes(body);
        "Subject: x\r\n\r\n"u8.CopyTo(body);
        return body;
    }

    private async Task<byte[]> ReadAsync(string id)
    {
        await using var stream = await Store.OpenMessageAsync(id, None);
        using var copy = new MemoryStream();
        await stream!.CopyToAsync(copy);
        return copy.ToArray();
    }

    private sealed class Steps : ICommitRecorder
    {
        public List<(CommitStep, string)> Recorded { get; } = [];

        public void Record(CommitStep step, string path) => Recorded.Add((step, path));
    }
}
