using System.Globalization;
using Mailroom.Core.Audit;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>READ &lt;mailbox&gt;: opens a mailbox the user may read; the first NEXT shows its first message.</summary>
internal static class ReadHandler
{
    public static Task HandleAsync(SmtpSession session, ArgumentCommand command) =>
        !MailboxCommands.Allowed(session, needsOpenMailbox: false) ? Task.CompletedTask : MailboxCommands.RunAsync(session, async () =>
        {
            if (await MailboxCommands.ResolveAsync(session, command.Argument).ConfigureAwait(false) is not (var mailbox, var rights))
            {
                session.Reply(ReplyCatalogue.MailboxNotFound.Format(command.Argument));
                return;
            }

            var entries = await session.Services.Store.ListMailboxAsync(mailbox.Id, session.LoggedInAccount!.Id, CancellationToken.None).ConfigureAwait(false);
            session.OpenMailbox = new MailboxView(mailbox, rights);
            session.Reply(ReplyCatalogue.MailboxOpened.Format(command.Argument, entries.Count, entries.Count(e => !e.Read)));
            session.RecordAudit(session.NewAuditEvent(AuditKinds.MailboxOpen) with
            {
                Mailbox = mailbox.Address,
                Detail = string.Create(CultureInfo.InvariantCulture, $"{entries.Count} message(s)"),
            });
        });
}
