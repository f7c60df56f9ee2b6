namespace Mailroom.Core.Storage;

/// <summary>Domains, accounts and the mailboxes mail can be delivered to.</summary>
/// <remarks>
/// Addresses and domains are compared case-insensitively: the store keeps them in lower case
/// (ordinal, invariant), so callers pass them as typed and the store normalises.
/// Every method throws <see cref="StorageException"/> when the store itself fails.
/// </remarks>
public interface IDirectoryStore
{
    /// <summary>Adds a local domain; returns false when it already exists.</summary>
    Task<bool> AddDomainAsync(string domain, CancellationToken cancellationToken);

    /// <summary>Removes a domain. Throws <see cref="DirectoryConflictException"/> while accounts still use it.</summary>
    Task<bool> RemoveDomainAsync(string domain, CancellationToken cancellationToken);

    Task<IReadOnlyList<string>> ListDomainsAsync(CancellationToken cancellationToken);

    Task<bool> IsLocalDomainAsync(string domain, CancellationToken cancellationToken);

    /// <summary>
    /// Adds an account with its personal mailbox (named INBOX, addressed by the account's address).
    /// Throws <see cref="DirectoryConflictException"/> when the domain is not local or the address is taken.
    /// </summary>
    Task<Account> AddAccountAsync(string address, string passwordHash, CancellationToken cancellationToken);

    /// <summary>Replaces the stored password hash; returns false when there is no such account.</summary>
    Task<bool> SetPasswordHashAsync(string address, string passwordHash, CancellationToken cancellationToken);

    /// <summary>Removes an account, its personal mailbox and every delivery in it.</summary>
    Task<bool> RemoveAccountAsync(string address, CancellationToken cancellationToken);

    Task<Account?> FindAccountAsync(string address, CancellationToken cancellationToken);

    Task<IReadOnlyList<Account>> ListAccountsAsync(CancellationToken cancellationToken);

    /// <summary>The mailbox that mail for <paramref name="address"/> is delivered to, if any.</summary>
    Task<MailboxRef?> FindMailboxAsync(string address, CancellationToken cancellationToken);

    /// <summary>
    /// The mailbox that mail for an address with no mailbox of its own but reserved by the
    /// server (postmaster, RFC 5321 4.5.1) lands in: created on first use, owned by no account.
    /// </summary>
    Task<MailboxRef> EnsureSystemMailboxAsync(string address, CancellationToken cancellationToken);

    /// <summary>
    /// The secret kept under <paramref name="name"/>. When there is none yet,
    /// <paramref name="candidate"/> is stored first, so whichever caller comes first wins and
    /// every node and every restart then gets the same bytes.
    /// </summary>
    Task<byte[]> GetOrAddSecretAsync(string name, byte[] candidate, CancellationToken cancellationToken);
}
