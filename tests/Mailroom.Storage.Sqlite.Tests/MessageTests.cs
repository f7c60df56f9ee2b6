using System.Text;

using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;

namespace Mailroom.Storage.Sqlite.Tests;

/// <summary>
/// Message storage as SQLite does it, one body file per message; the rest is in the store contract
/// (<see cref="SqliteMessageContract"/>).
/// </summary>
public sealed class MessageTests : TempStore
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task OneBodyIsStoredForManyMailboxes()
    {
        var a = await AddUserAsync("a@example.com");
        var b = await AddUserAsync("b@example.com");
        var postmaster = await Store.EnsureSystemMailboxAsync("postmaster", None);

        var id = await DeliverAsync("Subject: hello\r\n\r\nbody\r\n"u8.ToArray(), a, b, postmaster);

        Assert.Single(BodyFiles());
        var summaries = await Store.ListMessagesAsync(null, None);
        Assert.Equal(3, summaries.Count);
        Assert.All(summaries, s => Assert.Equal(id, s.MessageId));
        Assert.Equal(["a@example.com", "b@example.com", "postmaster"], summaries.Select(s => s.Mailbox).Order());
        Assert.Equal(id, Assert.Single(await Store.ListMessagesAsync("B@Example.com", None)).MessageId);
        Assert.Empty(await Store.ListMessagesAsync("nobody@example.com", None));
    }

    [Fact]
    public async Task AWriterDisposedWithoutCommitLeavesNothing()
    {
        var a = await AddUserAsync("a@example.com");
        var id = MessageIds.New();
        var envelope = new MessageEnvelope(id, "s@example.net", [new EnvelopeRecipient(a, a.Address)], DateTimeOffset.UtcNow);

        await using (var writer = await Store.BeginMessageAsync(envelope, None))
        {
            await writer.WriteAsync(new byte[200_000], None);
            Assert.Single(BodyFiles());
        }

        Assert.Empty(BodyFiles());
        Assert.Empty(await Store.ListMessagesAsync(null, None));
        Assert.Null(await Store.OpenMessageAsync(id, None));
    }

    [Fact]
    public async Task FiftyConcurrentDeliveriesAllLand()
    {
        var a = await AddUserAsync("a@example.com");
        var b = await AddUserAsync("b@example.com");

        var ids = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
        {
            var body = Encoding.ASCII.GetBytes($"Subject: message {i}\r\n\r\n{new string('x', 10_000 * (i % 4))}\r\n");
            return (Id: await DeliverAsync(body, i % 3 == 0 ? [a, b] : [a]), Index: i);
        })));

        Assert.Equal(50, ids.Select(x => x.Id).Distinct().Count());
        var summaries = await Store.ListMessagesAsync(null, None);
        Assert.Equal(50 + 17, summaries.Count);
        Assert.Equal(50, BodyFiles().Length);
        foreach (var (id, index) in ids)
        {
            var forA = Assert.Single(summaries, s => s.MessageId == id && s.Mailbox == "a@example.com");
            Assert.Equal($"message {index}", forA.Subject);
        }
    }

    [Fact]
    public async Task AnIdThatCouldEscapeTheMessagesFolderIsRejected()
    {
        var a = await AddUserAsync("a@example.com");
        var envelope = new MessageEnvelope("../../evil", "s@example.net", [new EnvelopeRecipient(a, a.Address)], DateTimeOffset.UtcNow);

        await Assert.ThrowsAsync<ArgumentException>(() => Store.BeginMessageAsync(envelope, None));
    }

}
