using System.Globalization;
using Mailroom.Core.Audit;
using Mailroom.Core.Storage;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>
/// DELE &lt;mailbox&gt;: moves every message of a mailbox to the trash (the original design's
/// meaning); DELE alone moves just the current message. Nothing is gone for good until the trash
/// is purged, so an administrator can restore it.
/// <para>
/// Each deletion is on the audit log's disk before the reply that confirms it: a
/// <c>mailbox.delete</c> entry with the mailbox, the message id when one message went, and
/// "N message(s)" in the detail ("all N message(s)" for DELE &lt;mailbox&gt;). If the entry cannot
/// be written the messages stay in the trash and the client hears 451 4.3.0.
/// </para>
/// </summary>
internal static class DeleHandler
{
    public static Task HandleAsync(SmtpSession session, ArgumentCommand command) =>
        !MailboxCommands.Allowed(session, needsOpenMailbox: command.Argument.Length == 0) ? Task.CompletedTask : MailboxCommands.RunAsync(session, async () =>
        {
            var store = session.Services.Store;
            if (command.Argument.Length == 0)
            {
                if (await MailboxCommands.CurrentMessageViewAsync(session, MailboxRights.Delete, "delete").ConfigureAwait(false) is not { Current: { } current } view)
                {
                    return;
                }

                var moved = await store.TrashAsync(view.Mailbox.Id, current.DeliveryId, CancellationToken.None).ConfigureAwait(false);
                if (moved == 0)
                {
                    session.Reply(ReplyCatalogue.MessageGone);
                }
                else if (await AuditedAsync(session, view.Mailbox, current.MessageId, moved, whole: false).ConfigureAwait(false))
                {
                    session.Reply(ReplyCatalogue.MessagesTrashed.Format(moved));
                }

                return;
            }

            if (await MailboxCommands.ResolveAsync(session, command.Argument).ConfigureAwait(false) is not (var mailbox, var rights))
            {
                session.Reply(ReplyCatalogue.MailboxNotFound.Format(command.Argument));
                return;
            }

            if (!rights.HasFlag(MailboxRights.Delete))
            {
                session.Reply(ReplyCatalogue.NoRight.Format("delete"));
                return;
            }

            var trashed = await store.TrashAsync(mailbox.Id, null, CancellationToken.None).ConfigureAwait(false);
            if (trashed == 0 || await AuditedAsync(session, mailbox, null, trashed, whole: true).ConfigureAwait(false))
            {
                session.Reply(ReplyCatalogue.MessagesTrashed.Format(trashed));
            }
        });

    /// <summary>Writes the deletion's entry; false (451 queued) when the reply may not confirm it.</summary>
    private static Task<bool> AuditedAsync(SmtpSession session, MailboxRef mailbox, string? messageId, int count, bool whole) =>
        session.RecordAuditDurablyAsync(session.NewAuditEvent(AuditKinds.MailboxDelete) with
        {
            Mailbox = mailbox.Address,
            MessageId = messageId,
            Detail = string.Create(CultureInfo.InvariantCulture, $"{(whole ? "all " : string.Empty)}{count} message(s)"),
        });
}
