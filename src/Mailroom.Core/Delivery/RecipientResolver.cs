using Mailroom.Core.Storage;
using Mailroom.Protocol.Addressing;

namespace Mailroom.Core.Delivery;

public enum RecipientStatus
{
    /// <summary>A local mailbox takes the mail.</summary>
    Local,

    /// <summary>The domain is local but has no such mailbox (550 5.1.1).</summary>
    UnknownMailbox,

    /// <summary>The domain is not ours: accepting would make the server an open relay (550 5.7.1).</summary>
    NotLocal,
}

public readonly record struct RecipientResolution(RecipientStatus Status, MailboxRef? Mailbox);

/// <summary>
/// Decides who gets mail addressed to a recipient. The one rule beyond a lookup: postmaster at
/// every local domain, and the bare <c>&lt;Postmaster&gt;</c>, are always accepted
/// (RFC 5321 4.5.1), landing in that domain's postmaster account when there is one, otherwise in
/// the configured postmaster mailbox, otherwise in a system mailbox named postmaster.
/// </summary>
public sealed class RecipientResolver(IDirectoryStore directory, string? postmasterAddress = null)
{
    public const string SystemPostmaster = "postmaster";

    public async Task<RecipientResolution> ResolveAsync(SmtpMailbox recipient, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        var isPostmaster = recipient.LocalPart.Equals("postmaster", StringComparison.OrdinalIgnoreCase);
        if (recipient.IsDomainless)
        {
            return isPostmaster
                ? new(RecipientStatus.Local, await PostmasterAsync(cancellationToken).ConfigureAwait(false))
                : new(RecipientStatus.UnknownMailbox, null);
        }

        if (!await directory.IsLocalDomainAsync(recipient.Domain, cancellationToken).ConfigureAwait(false))
        {
            return new(RecipientStatus.NotLocal, null);
        }

        var mailbox = await directory.FindMailboxAsync(recipient.ToString(), cancellationToken).ConfigureAwait(false);
        if (mailbox is not null)
        {
            return new(RecipientStatus.Local, mailbox);
        }

        return isPostmaster
            ? new(RecipientStatus.Local, await PostmasterAsync(cancellationToken).ConfigureAwait(false))
            : new(RecipientStatus.UnknownMailbox, null);
    }

    private async Task<MailboxRef> PostmasterAsync(CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(postmasterAddress))
        {
            var configured = await directory.FindMailboxAsync(postmasterAddress, cancellationToken).ConfigureAwait(false);
            if (configured is not null)
            {
                return configured;
            }
        }

        return await directory.EnsureSystemMailboxAsync(SystemPostmaster, cancellationToken).ConfigureAwait(false);
    }
}
