using System.Globalization;
using System.Security.Cryptography;
using Mailroom.Core.Accounts;
using Mailroom.Core.Storage;

namespace Mailroom.Cli.Admin;

/// <summary>How many things of one kind a copy brought over, and how many the target had already.</summary>
public sealed class CopyTally
{
    public int Copied { get; private set; }

    public int Skipped { get; private set; }

    internal void Count(bool copied)
    {
        if (copied)
        {
            Copied++;
        }
        else
        {
            Skipped++;
        }
    }
}

/// <summary>What <see cref="StoreCopy.CopyAsync"/> did, kind by kind.</summary>
public sealed class StoreCopyReport
{
    public CopyTally Domains { get; } = new();

    public CopyTally Accounts { get; } = new();

    public CopyTally Mailboxes { get; } = new();

    public CopyTally Grants { get; } = new();

    public CopyTally Lists { get; } = new();

    public CopyTally Messages { get; } = new();

    public CopyTally Flags { get; } = new();

    /// <summary>
    /// The target had a key for unknown users' SCRAM salts of its own, different from the
    /// source's, and kept it: those salts are not what the old server gave.
    /// </summary>
    public bool TargetKeptItsSaltKey { get; internal set; }

    /// <summary>"copied 3 domain(s), ...; skipped 0 domain(s), ...".</summary>
    public string Summary()
    {
        var kinds = new (CopyTally Tally, string Name)[]
        {
            (Domains, "domain(s)"), (Accounts, "account(s)"), (Mailboxes, "shared mailbox(es)"), (Grants, "grant(s)"),
            (Lists, "list(s)"), (Messages, "message(s)"), (Flags, "flag(s)"),
        };
        string Line(Func<CopyTally, int> count) =>
            string.Join(", ", kinds.Select(k => string.Create(CultureInfo.InvariantCulture, $"{count(k.Tally):N0} {k.Name}")));
        return $"copied {Line(t => t.Copied)}; skipped {Line(t => t.Skipped)} (already in the target)";
    }
}

/// <summary>
/// Copies one store into another through the public <see cref="IMailStore"/> contract only, so
/// any store can be the target: domains, accounts with their password hashes as they are,
/// shared and system mailboxes, rights, lists, then every message (same id, sender, time and
/// bytes, to the same mailboxes) and each reader's flags, and the key behind unknown users' SCRAM
/// salts, so they stay what they were. Whatever the target has already is
/// skipped, so a copy cut short is finished by running it again. Messages in the trash are not
/// copied: the contract does not list them.
/// </summary>
public static class StoreCopy
{
    private const int BufferSize = 64 * 1024;

    public static async Task<StoreCopyReport> CopyAsync(IMailStore source, IMailStore target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        var report = new StoreCopyReport();
        var domains = await CopyDomainsAsync(source, target, report.Domains, cancellationToken).ConfigureAwait(false);
        var accounts = await source.ListAccountsAsync(cancellationToken).ConfigureAwait(false);
        await CopyAccountsAsync(accounts, target, report.Accounts, cancellationToken).ConfigureAwait(false);
        var personal = accounts.Select(a => a.Address).ToHashSet(StringComparer.Ordinal);
        var mailboxes = await source.ListMailboxesAsync(cancellationToken).ConfigureAwait(false);
        await CopyMailboxesAsync(mailboxes, personal, domains, target, report.Mailboxes, cancellationToken).ConfigureAwait(false);
        await CopyGrantsAsync(source, target, mailboxes, report.Grants, cancellationToken).ConfigureAwait(false);
        await CopyListsAsync(source, target, report.Lists, cancellationToken).ConfigureAwait(false);
        await CopyMessagesAsync(source, target, report.Messages, cancellationToken).ConfigureAwait(false);
        await CopyFlagsAsync(source, target, mailboxes, accounts, report.Flags, cancellationToken).ConfigureAwait(false);

        // A source that never needed the key gets one now; a target that has one keeps its own.
        var key = await source.GetOrAddSecretAsync(Authenticator.FakeSaltSecret, RandomNumberGenerator.GetBytes(32), cancellationToken).ConfigureAwait(false);
        var kept = await target.GetOrAddSecretAsync(Authenticator.FakeSaltSecret, key, cancellationToken).ConfigureAwait(false);
        report.TargetKeptItsSaltKey = !kept.AsSpan().SequenceEqual(key);
        return report;
    }

    private static async Task<HashSet<string>> CopyDomainsAsync(IMailStore source, IMailStore target, CopyTally tally, CancellationToken cancellationToken)
    {
        var domains = await source.ListDomainsAsync(cancellationToken).ConfigureAwait(false);
        foreach (var domain in domains)
        {
            tally.Count(await target.AddDomainAsync(domain, cancellationToken).ConfigureAwait(false));
        }

        return domains.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The hash goes over as it is (it names its algorithm and iterations), so every password still works.</summary>
    private static async Task CopyAccountsAsync(IReadOnlyList<Account> accounts, IMailStore target, CopyTally tally, CancellationToken cancellationToken)
    {
        foreach (var account in accounts)
        {
            var missing = await target.FindAccountAsync(account.Address, cancellationToken).ConfigureAwait(false) is null;
            if (missing)
            {
                await target.AddAccountAsync(account.Address, account.PasswordHash, cancellationToken).ConfigureAwait(false);
            }

            tally.Count(missing);
        }
    }

    /// <summary>
    /// Personal mailboxes came with their accounts. The rest are shared (an address of a local
    /// domain) or system ones such as the bare <c>postmaster</c>, which no domain holds.
    /// </summary>
    private static async Task CopyMailboxesAsync(IReadOnlyList<MailboxRef> mailboxes, HashSet<string> personal, HashSet<string> domains, IMailStore target, CopyTally tally, CancellationToken cancellationToken)
    {
        foreach (var mailbox in mailboxes.Where(m => !personal.Contains(m.Address)))
        {
            var missing = await target.FindMailboxAsync(mailbox.Address, cancellationToken).ConfigureAwait(false) is null;
            if (missing)
            {
                var at = mailbox.Address.LastIndexOf('@');
                _ = at > 0 && domains.Contains(mailbox.Address[(at + 1)..])
                    ? await target.AddSharedMailboxAsync(mailbox.Address, cancellationToken).ConfigureAwait(false)
                    : await target.EnsureSystemMailboxAsync(mailbox.Address, cancellationToken).ConfigureAwait(false);
            }

            tally.Count(missing);
        }
    }

    private static async Task CopyGrantsAsync(IMailStore source, IMailStore target, IReadOnlyList<MailboxRef> mailboxes, CopyTally tally, CancellationToken cancellationToken)
    {
        foreach (var mailbox in mailboxes)
        {
            var grants = await source.ListGrantsAsync(mailbox.Id, cancellationToken).ConfigureAwait(false);
            if (grants.Count == 0)
            {
                continue;
            }

            var targetMailbox = await RequireMailboxAsync(target, mailbox.Address, cancellationToken).ConfigureAwait(false);
            foreach (var grant in grants)
            {
                var user = await RequireAccountAsync(target, grant.User, cancellationToken).ConfigureAwait(false);
                var differs = await target.GetRightsAsync(targetMailbox.Id, user.Id, cancellationToken).ConfigureAwait(false) != grant.Rights;
                if (differs)
                {
                    await target.SetRightsAsync(targetMailbox.Id, user.Id, grant.Rights, cancellationToken).ConfigureAwait(false);
                }

                tally.Count(differs);
            }
        }
    }

    /// <summary>A list the target has already is counted as skipped, but still gets any member or sender it lacks.</summary>
    private static async Task CopyListsAsync(IMailStore source, IMailStore target, CopyTally tally, CancellationToken cancellationToken)
    {
        foreach (var list in await source.ListListsAsync(cancellationToken).ConfigureAwait(false))
        {
            var missing = await target.FindListAsync(list.Address, cancellationToken).ConfigureAwait(false) is null;
            if (missing)
            {
                await target.AddListAsync(list.Address, list.Policy, cancellationToken).ConfigureAwait(false);
            }

            foreach (var member in list.Members)
            {
                await target.SetListMemberAsync(list.Address, member, add: true, cancellationToken).ConfigureAwait(false);
            }

            foreach (var sender in list.Senders)
            {
                await target.SetListSenderAsync(list.Address, sender, add: true, cancellationToken).ConfigureAwait(false);
            }

            tally.Count(missing);
        }
    }

    /// <summary>
    /// One delivery per message id, to every mailbox that holds it outside the trash, each
    /// reached by its own address; the body is streamed, never held whole. A message id the
    /// target knows is skipped, whatever its deliveries there.
    /// </summary>
    private static async Task CopyMessagesAsync(IMailStore source, IMailStore target, CopyTally tally, CancellationToken cancellationToken)
    {
        var deliveries = await source.ListMessagesAsync(null, cancellationToken).ConfigureAwait(false);
        var mailboxes = new Dictionary<string, MailboxRef>(StringComparer.Ordinal);
        foreach (var message in deliveries.GroupBy(d => d.MessageId, StringComparer.Ordinal))
        {
            if (await ExistsAsync(target, message.Key, cancellationToken).ConfigureAwait(false))
            {
                tally.Count(copied: false);
                continue;
            }

            var recipients = new List<EnvelopeRecipient>();
            foreach (var address in message.Select(d => d.Mailbox).Distinct(StringComparer.Ordinal))
            {
                if (!mailboxes.TryGetValue(address, out var mailbox))
                {
                    mailbox = await RequireMailboxAsync(target, address, cancellationToken).ConfigureAwait(false);
                    mailboxes.Add(address, mailbox);
                }

                recipients.Add(new EnvelopeRecipient(mailbox, address));
            }

            var first = message.First();
            var body = await source.OpenMessageAsync(message.Key, cancellationToken).ConfigureAwait(false)
                ?? throw new StorageException($"message {message.Key} vanished from the source while it was copied");
            await using (body.ConfigureAwait(false))
            {
                var envelope = new MessageEnvelope(message.Key, first.Sender, recipients, first.ReceivedUtc);
                var writer = await target.BeginMessageAsync(envelope, cancellationToken).ConfigureAwait(false);
                await using (writer.ConfigureAwait(false))
                {
                    var buffer = new byte[BufferSize];
                    int read;
                    while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        await writer.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    }

                    await writer.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            tally.Count(copied: true);
        }
    }

    /// <summary>
    /// Flags belong to readers: in each mailbox, its owner's and every grantee's. Only set flags
    /// travel, and only where the target's message lacks them, so a second run sets none.
    /// </summary>
    private static async Task CopyFlagsAsync(IMailStore source, IMailStore target, IReadOnlyList<MailboxRef> mailboxes, IReadOnlyList<Account> accounts, CopyTally tally, CancellationToken cancellationToken)
    {
        var byAddress = accounts.ToDictionary(a => a.Address, StringComparer.Ordinal);
        foreach (var mailbox in mailboxes)
        {
            var readers = (await source.ListGrantsAsync(mailbox.Id, cancellationToken).ConfigureAwait(false)).Select(g => g.User).ToList();
            if (byAddress.ContainsKey(mailbox.Address))
            {
                readers.Add(mailbox.Address);
            }

            foreach (var reader in readers.Distinct(StringComparer.Ordinal))
            {
                if (byAddress.TryGetValue(reader, out var sourceReader))
                {
                    await CopyReaderFlagsAsync(source, target, mailbox, sourceReader, tally, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private static async Task CopyReaderFlagsAsync(IMailStore source, IMailStore target, MailboxRef mailbox, Account reader, CopyTally tally, CancellationToken cancellationToken)
    {
        var flagged = (await source.ListMailboxAsync(mailbox.Id, reader.Id, cancellationToken).ConfigureAwait(false))
            .Where(e => e.Read || e.Important)
            .ToList();
        if (flagged.Count == 0)
        {
            return;
        }

        var targetMailbox = await RequireMailboxAsync(target, mailbox.Address, cancellationToken).ConfigureAwait(false);
        var targetReader = await RequireAccountAsync(target, reader.Address, cancellationToken).ConfigureAwait(false);
        var entries = (await target.ListMailboxAsync(targetMailbox.Id, targetReader.Id, cancellationToken).ConfigureAwait(false))
            .ToDictionary(e => e.MessageId, StringComparer.Ordinal);
        foreach (var entry in flagged)
        {
            if (!entries.TryGetValue(entry.MessageId, out var copy))
            {
                // In the target's trash, or removed there since an earlier run: nothing to flag.
                continue;
            }

            foreach (var (flag, wanted, has) in new[] { (FlagKind.Read, entry.Read, copy.Read), (FlagKind.Important, entry.Important, copy.Important) })
            {
                if (!wanted)
                {
                    continue;
                }

                if (!has)
                {
                    await target.SetFlagAsync(targetMailbox.Id, copy.DeliveryId, targetReader.Id, flag, true, cancellationToken).ConfigureAwait(false);
                }

                tally.Count(!has);
            }
        }
    }

    private static async Task<bool> ExistsAsync(IMailStore store, string messageId, CancellationToken cancellationToken)
    {
        var stream = await store.OpenMessageAsync(messageId, cancellationToken).ConfigureAwait(false);
        if (stream is null)
        {
            return false;
        }

        await stream.DisposeAsync().ConfigureAwait(false);
        return true;
    }

    private static async Task<MailboxRef> RequireMailboxAsync(IMailStore target, string address, CancellationToken cancellationToken) =>
        await target.FindMailboxAsync(address, cancellationToken).ConfigureAwait(false)
            ?? throw new StorageException($"mailbox {address} is missing from the target after it was copied");

    private static async Task<Account> RequireAccountAsync(IMailStore target, string address, CancellationToken cancellationToken) =>
        await target.FindAccountAsync(address, cancellationToken).ConfigureAwait(false)
            ?? throw new StorageException($"account {address} is missing from the target after it was copied");
}
