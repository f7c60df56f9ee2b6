using Mailroom.Core.Storage;
using static Mailroom.Storage.Postgres.Tests.PostgresStoreTestKit;

namespace Mailroom.Storage.Postgres.Tests;

/// <summary>Two stores on one database, as two server nodes: what one writes the other sees at once, and neither loses the other's work.</summary>
public sealed class PostgresNodesTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly PostgresTestDatabase _database = new(fixture);
    private PostgresMailStore _nodeA = null!;
    private PostgresMailStore _nodeB = null!;

    public async ValueTask InitializeAsync()
    {
        _nodeA = await _database.OpenStoreAsync();
        _nodeB = await _database.OpenStoreAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _nodeA.DisposeAsync();
        await _nodeB.DisposeAsync();
        await _database.DropAsync();
    }

    [Fact]
    public async Task A_message_committed_on_one_node_is_listed_and_read_on_the_other_at_once()
    {
        var alice = await AddUserAsync(_nodeA, "alice@example.com");
        Assert.Empty(await _nodeB.ListMessagesAsync("alice@example.com", Token));
        var body = Body(5000);

        var id = await DeliverAsync(_nodeA, body, alice);

        Assert.Equal(id, Assert.Single(await _nodeB.ListMessagesAsync("alice@example.com", Token)).MessageId);
        Assert.Equal(body, await ReadAllAsync(_nodeB, id));
    }

    [Fact]
    public async Task Accounts_list_members_and_rights_added_on_one_node_count_on_the_other_without_a_reopen()
    {
        await _nodeA.AddDomainAsync("example.com", Token);
        var support = await _nodeA.AddSharedMailboxAsync("support@example.com", Token);
        await _nodeA.AddListAsync("team@example.com", PostingPolicy.Members, Token);

        // The other node has looked everything up once, so anything it kept would now be stale.
        Assert.Null(await _nodeB.FindAccountAsync("bob@example.com", Token));
        Assert.Empty((await _nodeB.FindListAsync("team@example.com", Token))!.Members);

        await AddUserAsync(_nodeA, "bob@example.com");
        var bob = (await _nodeB.FindAccountAsync("bob@example.com", Token))!;
        Assert.NotNull(bob);
        Assert.Equal(MailboxRights.None, await _nodeB.GetRightsAsync(support.Id, bob.Id, Token));

        Assert.True(await _nodeA.SetListMemberAsync("team@example.com", "bob@example.com", add: true, Token));
        await _nodeA.SetRightsAsync(support.Id, bob.Id, MailboxRights.Read, Token);

        Assert.Equal(["bob@example.com"], (await _nodeB.FindListAsync("team@example.com", Token))!.Members);
        Assert.Equal(MailboxRights.Read, await _nodeB.GetRightsAsync(support.Id, bob.Id, Token));
    }

    [Fact]
    public async Task Concurrent_deliveries_from_two_nodes_to_one_mailbox_are_all_kept_once()
    {
        const int TasksPerNode = 8;
        const int DeliveriesPerTask = 25;
        var alice = await AddUserAsync(_nodeA, "alice@example.com");
        var aliceId = (await _nodeA.FindAccountAsync("alice@example.com", Token))!.Id;

        var sent = await Task.WhenAll(
            from node in new[] { _nodeA, _nodeB }
            from task in Enumerable.Range(0, TasksPerNode)
            select Task.Run(
                async () =>
                {
                    var ids = new List<string>();
                    for (var i = 0; i < DeliveriesPerTask; i++)
                    {
                        ids.Add(await DeliverAsync(node, Body(200 + i), alice));
                    }

                    return ids;
                },
                Token));

        var entries = await _nodeB.ListMailboxAsync(alice.Id, aliceId, Token);
        var expected = sent.SelectMany(ids => ids).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(2 * TasksPerNode * DeliveriesPerTask, expected.Count);
        Assert.Equal(expected.Count, entries.Count);
        Assert.Equal(expected.Count, entries.Select(e => e.DeliveryId).Distinct().Count());
        Assert.True(expected.SetEquals(entries.Select(e => e.MessageId)));
    }

    [Fact]
    public async Task Both_nodes_purging_the_trash_at_once_delete_each_message_once()
    {
        const int Messages = 40;
        var alice = await AddUserAsync(_nodeA, "alice@example.com");
        var bob = await AddUserAsync(_nodeA, "bob@example.com");
        for (var i = 0; i < Messages; i++)
        {
            await DeliverAsync(_nodeA, Body(300), alice, bob);
        }

        Assert.Equal(Messages, await _nodeA.TrashAsync(alice.Id, null, Token));
        Assert.Equal(Messages, await _nodeB.TrashAsync(bob.Id, null, Token));
        var before = DateTimeOffset.UtcNow.AddMinutes(1);

        var purged = await Task.WhenAll(
            Task.Run(() => _nodeA.PurgeTrashAsync(before, Token), Token),
            Task.Run(() => _nodeB.PurgeTrashAsync(before, Token), Token));

        // Each node counts the deliveries it removed: every one of them is counted once, in all.
        Assert.Equal(2 * Messages, purged.Sum());
        Assert.Equal(0L, await _database.ScalarAsync<long>(
            "SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM message_chunks) + (SELECT count(*) FROM deliveries);"));
    }
    [Fact]
    public async Task Removing_an_account_while_the_other_node_delivers_to_it_leaves_no_message_held_by_nothing()
    {
        var bob = await AddUserAsync(_nodeA, "bob@example.com");
        using var removed = new CancellationTokenSource();
        var accepted = 0;

        // Node A keeps delivering to bob from several sessions while node B removes him.
        var senders = Enumerable.Range(0, 8).Select(_ => Task.Run(
            async () =>
            {
                while (!removed.IsCancellationRequested)
                {
                    try
                    {
                        await DeliverAsync(_nodeA, Body(2000), bob);
                        Interlocked.Increment(ref accepted);
                    }
                    catch (StorageException)
                    {
                        // After the removal: the mailbox is gone (a foreign-key refusal), as RCPT would now say.
                    }
                }
            },
            Token)).ToList();
        while (Volatile.Read(ref accepted) < 40)
        {
            await Task.Delay(10, Token);
        }

        Assert.True(await _nodeB.RemoveAccountAsync("bob@example.com", Token));
        await removed.CancelAsync();
        await Task.WhenAll(senders);

        Assert.Equal(0L, await _database.ScalarAsync<long>(
            "SELECT count(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id);"));
        Assert.Equal(0L, await _database.CountStoredBodiesAsync());
    }
    [Fact]
    public async Task An_address_added_at_once_as_an_account_on_one_node_and_a_list_or_shared_mailbox_on_the_other_becomes_one_of_them()
    {
        await _nodeA.AddDomainAsync("example.com", Token);
        for (var i = 0; i < 30; i++)
        {
            var address = $"x{i}@example.com";
            using var start = new SemaphoreSlim(0, 3);
            var attempts = new Func<Task>[]
            {
                () => _nodeA.AddAccountAsync(address, "$test$hash", Token),
                () => _nodeB.AddListAsync(address, PostingPolicy.Anyone, Token),
                () => _nodeB.AddSharedMailboxAsync(address, Token),
            }.Select(add => Task.Run(
                async () =>
                {
                    await start.WaitAsync(Token);
                    try
                    {
                        await add();
                        return true;
                    }
                    catch (DirectoryConflictException)
                    {
                        return false;
                    }
                },
                Token)).ToList();
            start.Release(3);

            Assert.Equal(1, (await Task.WhenAll(attempts)).Count(added => added));
            var isList = await _nodeA.FindListAsync(address, Token) is not null;
            var isMailbox = await _nodeA.FindMailboxAsync(address, Token) is not null;
            Assert.True(isList ^ isMailbox, $"{address}: list {isList}, mailbox {isMailbox}");
        }
    }
}
