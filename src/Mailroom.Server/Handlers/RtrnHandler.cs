using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>RTRN: closes the mailbox and logs out, back to the state after EHLO.</summary>
internal static class RtrnHandler
{
    public static async Task HandleAsync(SmtpSession session)
    {
        if (!MailboxCommands.Allowed(session, needsOpenMailbox: false))
        {
            return;
        }

        await session.LogOutAsync().ConfigureAwait(false);
        session.Reply(ReplyCatalogue.LoggedOut);
    }
}
