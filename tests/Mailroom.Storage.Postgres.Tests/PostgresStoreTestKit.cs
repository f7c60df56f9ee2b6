using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;

namespace Mailroom.Storage.Postgres.Tests;

/// <summary>Delivering and reading back through any store, for the PostgreSQL-specific tests.</summary>
internal static class PostgresStoreTestKit
{
    public static CancellationToken Token => TestContext.Current.CancellationToken;

    public static async Task<MailboxRef> AddUserAsync(IMailStore store, string address)
    {
        await store.AddDomainAsync(address[(address.LastIndexOf('@') + 1)..], Token);
        await store.AddAccountAsync(address, "$test$hash", Token);
        return (await store.FindMailboxAsync(address, Token))!;
    }

    public static MessageEnvelope Envelope(params MailboxRef[] mailboxes) =>
        new(MessageIds.New(), "sender@example.net", [.. mailboxes.Select(m => new EnvelopeRecipient(m, m.Address))], DateTimeOffset.UtcNow);

    /// <summary>Delivers <paramref name="body"/> in writes of 64 KiB, as DATA does.</summary>
    public static async Task<string> DeliverAsync(IMailStore store, byte[] body, params MailboxRef[] mailboxes)
    {
        var envelope = Envelope(mailboxes);
        await using var writer = await store.BeginMessageAsync(envelope, Token);
        await WriteInPiecesAsync(writer, body);
        await writer.CommitAsync(Token);
        return envelope.MessageId;
    }

    public static async Task WriteInPiecesAsync(IMessageWriter writer, byte[] body)
    {
        for (var offset = 0; offset < body.Length; offset += 64 * 1024)
        {
            await writer.WriteAsync(body.AsMemory(offset, Math.Min(64 * 1024, body.Length - offset)), Token);
        }
    }

    public static async Task<byte[]> ReadAllAsync(IMailStore store, string messageId)
    {
        await using var stream = await store.OpenMessageAsync(messageId, Token) ?? throw new InvalidOperationException($"message {messageId} is not stored");
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Token);
        return copy.ToArray();
    }

    /// <summary>A body of <paramref name="size"/> bytes with a Subject header, every byte depending on its position.</summary>
    public static byte[] Body(int size)
    {
        var body = new byte[size];
        var random = new Random(size);
        random.NextBytes(body);
        var header = "Subject: big\r\n\r\n"u8;
        header[..Math.Min(header.Length, size)].CopyTo(body);
        return body;
    }
}
