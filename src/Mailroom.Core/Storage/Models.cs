namespace Mailroom.Core.Storage;

public sealed record Account(long Id, string Address, string PasswordHash, DateTimeOffset CreatedUtc);

/// <summary>A mailbox mail can be delivered to: a personal mailbox or a system one.</summary>
public sealed record MailboxRef(long Id, string Address, string Name);

/// <summary>What the store needs to file a message; the body comes through <see cref="IMessageWriter"/>.</summary>
/// <param name="MessageId">The id from <see cref="Delivery.MessageIds.New"/>, already quoted in the trace header.</param>
/// <param name="Sender">The reverse-path without angle brackets; empty for the null sender.</param>
/// <param name="Recipients">Each distinct mailbox once, with the address it was reached by.</param>
public sealed record MessageEnvelope(
    string MessageId,
    string Sender,
    IReadOnlyList<EnvelopeRecipient> Recipients,
    DateTimeOffset ReceivedUtc);

public sealed record EnvelopeRecipient(MailboxRef Mailbox, string Address);

public sealed record MessageSummary(
    string MessageId,
    string Mailbox,
    DateTimeOffset ReceivedUtc,
    string Sender,
    string? Subject,
    long Size);
