using Mailroom.Core.Storage;
using Mailroom.Protocol.Addressing;

namespace Mailroom.Core.Delivery;

public enum RecipientStatus
{
    /// <summary>Local mailboxes take the mail: one, or a list's members.</summary>
    Local,

    /// <summary>The domain is local but has no such mailbox or list (550 5.1.1).</summary>
    UnknownMailbox,

    /// <summary>The domain is not ours: accepting would make the server an open relay (550 5.7.1).</summary>
    NotLocal,

    /// <summary>A list this sender may not post to (550 5.7.1).</summary>
    NotAllowedToPost,
}

/// <summary>Where mail for one recipient goes; <see cref="Mailboxes"/> is empty unless <see cref="Status"/> is Local.</summary>
public readonly record struct RecipientResolution(RecipientStatus Status, IReadOnlyList<MailboxRef> Mailboxes)
{
    public static RecipientResolution To(params MailboxRef[] mailboxes) => new(RecipientStatus.Local, mailboxes);

    public static RecipientResolution Refused(RecipientStatus status) => new(status, []);
}

/// <summary>
/// Decides who gets mail addressed to a recipient: a mailbox, or a mailing list's members.
/// <list type="bullet">
/// <item>postmaster at every local domain, and the bare <c>&lt;Postmaster&gt;</c>, are always accepted
/// (RFC 5321 4.5.1): that domain's postmaster account, else the configured postmaster mailbox,
/// else a system mailbox named postmaster;</item>
/// <item>a list expands to its members; a member that is itself a list expands too, each list
/// once, so nesting works and loops end; a member with no mailbox (or not local) is skipped;</item>
/// <item>who may post follows the list's policy, judged on the envelope sender.</item>
/// </list>
/// The session adds each mailbox once, so a member who is also a direct recipient gets one copy.
/// </summary>
public sealed class RecipientResolver(IMailStore store, string? postmasterAddress = null)
{
    public const string SystemPostmaster = "postmaster";

    /// <summary>At most this many lists are expanded for one recipient (a guard, not a limit anyone should meet).</summary>
    private const int MaxLists = 100;

    public async Task<RecipientResolution> ResolveAsync(SmtpMailbox recipient, SmtpMailbox? sender, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        var isPostmaster = recipient.LocalPart.Equals("postmaster", StringComparison.OrdinalIgnoreCase);
        if (recipient.IsDomainless)
        {
            return isPostmaster ? RecipientResolution.To(await PostmasterAsync(cancellationToken).ConfigureAwait(false)) : RecipientResolution.Refused(RecipientStatus.UnknownMailbox);
        }

        if (!await store.IsLocalDomainAsync(recipient.Domain, cancellationToken).ConfigureAwait(false))
        {
            return RecipientResolution.Refused(RecipientStatus.NotLocal);
        }

        var address = recipient.ToString();
        if (await store.FindMailboxAsync(address, cancellationToken).ConfigureAwait(false) is { } mailbox)
        {
            return RecipientResolution.To(mailbox);
        }

        if (await store.FindListAsync(address, cancellationToken).ConfigureAwait(false) is { } list)
        {
            if (!MayPost(list, sender))
            {
                return RecipientResolution.Refused(RecipientStatus.NotAllowedToPost);
            }

            var members = await ExpandAsync(list, sender, cancellationToken).ConfigureAwait(false);
            return members.Count == 0 ? RecipientResolution.Refused(RecipientStatus.UnknownMailbox) : new RecipientResolution(RecipientStatus.Local, members);
        }

        return isPostmaster
            ? RecipientResolution.To(await PostmasterAsync(cancellationToken).ConfigureAwait(false))
            : RecipientResolution.Refused(RecipientStatus.UnknownMailbox);
    }

    /// <summary>Whether <paramref name="sender"/> may post to <paramref name="list"/>; the null sender only where anyone may.</summary>
    public static bool MayPost(MailingList list, SmtpMailbox? sender)
    {
        ArgumentNullException.ThrowIfNull(list);
        var from = sender?.ToString();
        return list.Policy switch
        {
            PostingPolicy.Anyone => true,
            PostingPolicy.Members => from is not null && list.Members.Contains(from, StringComparer.OrdinalIgnoreCase),
            _ => from is not null && list.Senders.Contains(from, StringComparer.OrdinalIgnoreCase),
        };
    }

    /// <summary>
    /// Every mailbox a list reaches, through nested lists, each list expanded once. A nested list
    /// keeps its own posting policy: one the sender may not post to is left out, so an open list
    /// cannot be used to reach a restricted one.
    /// </summary>
    public async Task<IReadOnlyList<MailboxRef>> ExpandAsync(MailingList list, SmtpMailbox? sender, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(list);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { list.Address };
        var mailboxes = new Dictionary<long, MailboxRef>();
        var pending = new Queue<MailingList>([list]);
        var expanded = 0;
        while (pending.Count > 0 && ++expanded <= MaxLists)
        {
            foreach (var member in pending.Dequeue().Members)
            {
                if (await store.FindMailboxAsync(member, cancellationToken).ConfigureAwait(false) is { } mailbox)
                {
                    mailboxes.TryAdd(mailbox.Id, mailbox);
                }
                else if (seen.Add(member) && await store.FindListAsync(member, cancellationToken).ConfigureAwait(false) is { } nested && MayPost(nested, sender))
                {
                    pending.Enqueue(nested);
                }
            }
        }

        return [.. mailboxes.Values];
    }

    private async Task<MailboxRef> PostmasterAsync(CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(postmasterAddress))
        {
            var configured = await store.FindMailboxAsync(postmasterAddress, cancellationToken).ConfigureAwait(false);
            if (configured is not null)
            {
                return configured;
            }
        }

        return await store.EnsureSystemMailboxAsync(SystemPostmaster, cancellationToken).ConfigureAwait(false);
    }
}
