namespace Mailroom.Core.Storage;

/// <summary>Stored messages: delivery as a transaction, and reading back.</summary>
public interface IMessageStore
{
    /// <summary>
    /// Starts the delivery of one message to one or more mailboxes. The body is written through
    /// the returned writer and stored once, however many mailboxes receive it.
    /// </summary>
    Task<IMessageWriter> BeginMessageAsync(MessageEnvelope envelope, CancellationToken cancellationToken);

    /// <summary>Deliveries, newest last; one entry per mailbox a message reached.</summary>
    Task<IReadOnlyList<MessageSummary>> ListMessagesAsync(string? mailboxAddress, CancellationToken cancellationToken);

    /// <summary>Opens the stored message exactly as delivered, or null when there is no such id.</summary>
    Task<Stream?> OpenMessageAsync(string messageId, CancellationToken cancellationToken);
}

/// <summary>
/// One message on its way into the store. Ownership: the caller writes the whole message
/// (trace headers first), then commits. <see cref="CommitAsync"/> returns only once the message
/// and every delivery are durable: a crash after it returns loses nothing. Disposing without a
/// commit aborts: nothing of the message stays visible or on disk.
/// </summary>
public interface IMessageWriter : IAsyncDisposable
{
    string MessageId { get; }

    /// <summary>Bytes written so far.</summary>
    long Length { get; }

    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    Task CommitAsync(CancellationToken cancellationToken);
}
