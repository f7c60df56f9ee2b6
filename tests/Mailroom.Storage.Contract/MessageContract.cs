using System.Text;
using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;

namespace Mailroom.Storage.Contract;

/// <summary>Delivery as a transaction and reading back (<see cref="IMessageStore"/>).</summary>
public abstract class MessageContract : StoreContract
{
    [Fact]
    public async Task ACommittedMessageSurvivesReopeningByteForByte()
    {
        var alice = await AddUserAsync("alice@example.com");
        var body = new byte[300_000];
        new Random(7).NextBytes(body);
        "Subject: big\r\n\r\n"u8.CopyTo(body);
        // To the microsecond: the finest time both stores keep (PostgreSQL's timestamptz).
        var received = new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.Zero).AddTicks(1234560);
        var id = MessageIds.New();
        var envelope = new MessageEnvelope(id, "", [new EnvelopeRecipient(alice, "Alice@example.com")], received);
        await using (var writer = await Store.BeginMessageAsync(envelope, None))
        {
            // Written in uneven pieces, as the DATA stream hands them over.
            for (var offset = 0; offset < body.Length; offset += 7001)
            {
                await writer.WriteAsync(body.AsMemory(offset, Math.Min(7001, body.Length - offset)), None);
            }

            Assert.Equal(body.Length, writer.Length);
            await writer.CommitAsync(None);
        }

        await ReopenAsync();

        var summary = Assert.Single(await Store.ListMessagesAsync(null, None));
        Assert.Equal(new MessageSummary(id, "alice@example.com", received, "", "big", body.Length), summary);
        var stream = await Store.OpenMessageAsync(id, None);
        Assert.NotNull(stream);
        await using (stream)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.Equal(body, copy.ToArray());
        }
    }

    [Fact]
    public async Task ListingIsOldestFirst()
    {
        var a = await AddUserAsync("a@example.com");
        var start = DateTimeOffset.UtcNow;

        // Ids that sort against arrival order, so ordering by id instead of time fails.
        string[] ids = [.. Enumerable.Range(0, 3).Select(i => MessageIds.New(new FixedTime(start.AddMinutes(-i))))];
        int[] order = [2, 0, 1];
        foreach (var i in order)
        {
            var envelope = new MessageEnvelope(ids[i], "s@example.net", [new EnvelopeRecipient(a, a.Address)], start.AddMinutes(i));
            await using var writer = await Store.BeginMessageAsync(envelope, None);
            await writer.WriteAsync("x"u8.ToArray(), None);
            await writer.CommitAsync(None);
        }

        Assert.Equal(ids, (await Store.ListMessagesAsync(null, None)).Select(s => s.MessageId));
    }

    [Fact]
    public async Task AnUnknownIdOpensToNull()
    {
        Assert.Null(await Store.OpenMessageAsync(MessageIds.New(), None));
    }

    [Theory]
    [InlineData("Subject: Plain words\r\nFrom: a@example.com\r\n\r\nbody\r\n", "Plain words")]
    [InlineData("From: a@example.com\r\nSubject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n\r\nbody\r\n", "Grüße aus Köln")]
    [InlineData("Subject: =?ISO-8859-1?Q?caf=E9?= au\r\n  lait\r\n\r\n", "café au  lait")]
    [InlineData("From: a@example.com\r\n\r\nSubject: in the body, not a header\r\n", null)]
    [InlineData("\r\nno headers at all\r\n", null)]
    [InlineData("this is not a header line\r\nSubject: nope\r\n", null)]
    [InlineData("", null)]
    [InlineData("Subject: =?utf-8?b?aGkAdGhlcmUbWzJK?=\r\n\r\n", "hi\uFFFDthere\uFFFD[2J")]
    public async Task TheSubjectIsDecodedFromTheHeaders(string message, string? expected)
    {
        var a = await AddUserAsync("a@example.com");

        var id = await DeliverAsync(Encoding.UTF8.GetBytes(message), a);

        var summary = Assert.Single(await Store.ListMessagesAsync(null, None));
        Assert.Equal(id, summary.MessageId);
        Assert.Equal(expected, summary.Subject);
    }

    [Fact]
    public async Task ALargeBodyWrittenInOnePieceKeepsItsSubjectAndItsBytes()
    {
        var a = await AddUserAsync("a@example.com");
        var body = new byte[3 * 1024 * 1024 + 17];
        new Random(11).NextBytes(body);
        "Subject: one big write\r\n\r\n"u8.CopyTo(body);

        var id = await DeliverAsync(body, a);

        var summary = Assert.Single(await Store.ListMessagesAsync(null, None));
        Assert.Equal(("one big write", body.Length), (summary.Subject, summary.Size));
        await using var stream = await Store.OpenMessageAsync(id, None);
        using var copy = new MemoryStream();
        await stream!.CopyToAsync(copy);
        Assert.Equal(body, copy.ToArray());
    }

    [Fact]
    public async Task AnIdStoredAlreadyIsRefusedAndTheStoredMessageKept()
    {
        var a = await AddUserAsync("a@example.com");
        var id = await DeliverAsync("Subject: first\r\n\r\nkept\r\n"u8.ToArray(), a);
        var again = new MessageEnvelope(id, "s@example.net", [new EnvelopeRecipient(a, a.Address)], DateTimeOffset.UtcNow);

        // Refused at the start or at the commit, as the store finds it; never stored twice.
        await Assert.ThrowsAsync<DirectoryConflictException>(async () =>
        {
            await using var writer = await Store.BeginMessageAsync(again, None);
            await writer.WriteAsync("Subject: second\r\n\r\nlost\r\n"u8.ToArray(), None);
            await writer.CommitAsync(None);
        });

        Assert.Equal("first", Assert.Single(await Store.ListMessagesAsync(null, None)).Subject);
        await using var stream = await Store.OpenMessageAsync(id, None);
        using var copy = new MemoryStream();
        await stream!.CopyToAsync(copy);
        Assert.Equal("Subject: first\r\n\r\nkept\r\n"u8.ToArray(), copy.ToArray());
    }

    [Fact]
    public async Task ASecondWriterForTheSameIdIsRefused()
    {
        var a = await AddUserAsync("a@example.com");
        var envelope = new MessageEnvelope(MessageIds.New(), "s@example.net", [new EnvelopeRecipient(a, a.Address)], DateTimeOffset.UtcNow);
        await using var first = await Store.BeginMessageAsync(envelope, None);

        await Assert.ThrowsAsync<DirectoryConflictException>(() => Store.BeginMessageAsync(envelope, None));
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
