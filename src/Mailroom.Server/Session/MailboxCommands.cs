using Mailroom.Core.Storage;
using Mailroom.Protocol.Replies;

namespace Mailroom.Server.Session;

/// <summary>What every mailbox command checks first, and how a mailbox name is found.</summary>
internal static class MailboxCommands
{
    /// <summary>
    /// True when the command may go on; otherwise the refusal is queued: 502 on a listener without
    /// mailbox commands, 530 5.7.0 before a log-in, 503 when the command needs an open mailbox.
    /// </summary>
    public static bool Allowed(SmtpSession session, bool needsOpenMailbox)
    {
        if (!session.MailboxCommandsEnabled)
        {
            session.ReplyProtocolError(ReplyCatalogue.MailboxCommandsUnavailable);
            return false;
        }

        if (session.LoggedInAccount is null)
        {
            session.Reply(ReplyCatalogue.AuthRequired);
            return false;
        }

        if (needsOpenMailbox && session.OpenMailbox is null)
        {
            session.ReplyProtocolError(ReplyCatalogue.NoMailboxOpen);
            return false;
        }

        return true;
    }

    /// <summary>
    /// The mailbox a name means to the logged-in user: INBOX, or the user's own address. Any
    /// other name is "no such mailbox", whether or not it exists (shared mailboxes come with
    /// per-user rights), so nothing is learnt about mailboxes the user may not see.
    /// </summary>
    public static async Task<MailboxRef?> ResolveAsync(SmtpSession session, string name)
    {
        var own = session.LoggedInAccount!.Address;
        if (!name.Equals("INBOX", StringComparison.OrdinalIgnoreCase) && !name.Equals(own, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return await session.Services.Store.FindMailboxAsync(own, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Runs a command's store work; a storage fault becomes 451 4.3.0 in the one usual place.</summary>
    public static async Task RunAsync(SmtpSession session, Func<Task> work)
    {
        try
        {
            await work().ConfigureAwait(false);
        }
        catch (StorageException ex)
        {
            session.ReplyStorageFailure(ex);
        }
    }
}
