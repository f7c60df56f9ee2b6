namespace Mailroom.Core.Storage;

/// <summary>The per-reader flags of a message (IMAP's \Seen and \Flagged).</summary>
public enum FlagKind
{
    Read,
    Important,
}

/// <summary>One message in a mailbox, as one reader sees it.</summary>
/// <param name="DeliveryId">The stable id of this message in this mailbox.</param>
public sealed record MailboxEntry(
    long DeliveryId,
    string MessageId,
    DateTimeOffset ReceivedUtc,
    string Sender,
    string? Subject,
    long Size,
    bool Read,
    bool Important);

/// <summary>
/// Reading and managing what is in a mailbox. Flags belong to the reader, not the mailbox, so in
/// a mailbox several users share, one user's "read" is not another's. Deleting moves messages to
/// a trash, from which an administrator can restore them until they are purged.
/// </summary>
public interface IMailboxStore
{
    /// <summary>The messages in the mailbox (not in the trash), oldest first, with <paramref name="readerAccountId"/>'s flags.</summary>
    Task<IReadOnlyList<MailboxEntry>> ListMailboxAsync(long mailboxId, long readerAccountId, CancellationToken cancellationToken);

    /// <summary>Sets (<paramref name="value"/> true) or clears a flag for one reader; false when the message is not (or no longer) in the mailbox.</summary>
    Task<bool> SetFlagAsync(long mailboxId, long deliveryId, long readerAccountId, FlagKind flag, bool value, CancellationToken cancellationToken);

    /// <summary>Moves one message, or with <paramref name="deliveryId"/> null every message, of the mailbox to the trash; how many moved.</summary>
    Task<int> TrashAsync(long mailboxId, long? deliveryId, CancellationToken cancellationToken);

    /// <summary>Brings every message of the mailbox back from the trash; how many came back.</summary>
    Task<int> RestoreAsync(long mailboxId, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes for good what has been in the trash since before <paramref name="trashedBefore"/>,
    /// and the bodies no mailbox holds any more; how many messages left the trash. The server calls
    /// it hourly, so a store may also clear here what a crash left half-written (the SQLite store
    /// does, for a server that runs for months after a crash; the PostgreSQL store's spool is per
    /// node and swept when the node starts).
    /// </summary>
    Task<int> PurgeTrashAsync(DateTimeOffset trashedBefore, CancellationToken cancellationToken);

    /// <summary>
    /// Adds a shared mailbox: an address of a local domain that belongs to no account, used by
    /// the users granted rights on it. Throws <see cref="DirectoryConflictException"/> when the
    /// address is taken or the domain is not local.
    /// </summary>
    Task<MailboxRef> AddSharedMailboxAsync(string address, CancellationToken cancellationToken);

    /// <summary>Removes a shared mailbox with its messages; false when there is no such shared mailbox (a personal one goes with its account).</summary>
    Task<bool> RemoveSharedMailboxAsync(string address, CancellationToken cancellationToken);

    /// <summary>Every mailbox, personal and shared, by address.</summary>
    Task<IReadOnlyList<MailboxRef>> ListMailboxesAsync(CancellationToken cancellationToken);

    /// <summary>Sets a user's rights on a mailbox (None removes the grant).</summary>
    Task SetRightsAsync(long mailboxId, long accountId, MailboxRights rights, CancellationToken cancellationToken);

    /// <summary>What <paramref name="accountId"/> may do in the mailbox: everything in their own, the grant elsewhere.</summary>
    Task<MailboxRights> GetRightsAsync(long mailboxId, long accountId, CancellationToken cancellationToken);

    /// <summary>The grants on a mailbox.</summary>
    Task<IReadOnlyList<MailboxGrant>> ListGrantsAsync(long mailboxId, CancellationToken cancellationToken);
}
