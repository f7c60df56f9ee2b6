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
    /// The mailbox a name means to the logged-in user, with the user's rights on it: INBOX (or the
    /// user's own address) is theirs; any other address needs at least the read right. A mailbox
    /// the user may not read is "no such mailbox", exactly like one that does not exist.
    /// </summary>
    public static async Task<(MailboxRef Mailbox, MailboxRights Rights)?> ResolveAsync(SmtpSession session, string name)
    {
        var account = session.LoggedInAccount!;
        var store = session.Services.Store;
        var address = name.Equals("INBOX", StringComparison.OrdinalIgnoreCase) ? account.Address : name;
        var mailbox = await store.FindMailboxAsync(address, CancellationToken.None).ConfigureAwait(false);
        if (mailbox is null)
        {
            return null;
        }

        var rights = await store.GetRightsAsync(mailbox.Id, account.Id, CancellationToken.None).ConfigureAwait(false);
        return rights.HasFlag(MailboxRights.Read) ? (mailbox, rights) : null;
    }

    /// <summary>
    /// The open mailbox with the user's rights read again, so a right revoked while the mailbox is
    /// open takes effect at the next command; null (and 550 5.1.1 queued, the mailbox closed) when
    /// the user may no longer read it.
    /// </summary>
    public static async Task<MailboxView?> OpenViewAsync(SmtpSession session)
    {
        var view = session.OpenMailbox!;
        view.Rights = await session.Services.Store.GetRightsAsync(view.Mailbox.Id, session.LoggedInAccount!.Id, CancellationToken.None).ConfigureAwait(false);
        if (view.Rights.HasFlag(MailboxRights.Read))
        {
            return view;
        }

        session.OpenMailbox = null;
        session.Reply(ReplyCatalogue.MailboxNotFound.Format(view.Mailbox.Address));
        return null;
    }

    /// <summary>
    /// The open mailbox for a command on its current message that needs <paramref name="right"/>
    /// (FLAG, DELE): null, with 503 5.5.1 (no current message) or 550 5.7.1 (no right) queued,
    /// when it may not go on.
    /// </summary>
    public static async Task<MailboxView?> CurrentMessageViewAsync(SmtpSession session, MailboxRights right, string action)
    {
        if (await OpenViewAsync(session).ConfigureAwait(false) is not { } view)
        {
            return null;
        }

        if (view.Current is null)
        {
            session.ReplyProtocolError(ReplyCatalogue.NoCurrentMessage);
            return null;
        }

        if (!view.Rights.HasFlag(right))
        {
            session.Reply(ReplyCatalogue.NoRight.Format(action));
            return null;
        }

        return view;
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
