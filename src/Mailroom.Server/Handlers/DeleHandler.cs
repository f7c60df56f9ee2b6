using Mailroom.Core.Storage;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>
/// DELE &lt;mailbox&gt;: moves every message of a mailbox to the trash (the original design's
/// meaning); DELE alone moves just the current message. Nothing is gone for good until the trash
/// is purged, so an administrator can restore it.
/// </summary>
internal static class DeleHandler
{
    public static Task HandleAsync(SmtpSession session, ArgumentCommand command) =>
        !MailboxCommands.Allowed(session, needsOpenMailbox: command.Argument.Length == 0) ? Task.CompletedTask : MailboxCommands.RunAsync(session, async () =>
        {
            var store = session.Services.Store;
            if (command.Argument.Length == 0)
            {
                if (await MailboxCommands.OpenViewAsync(session).ConfigureAwait(false) is not { } view)
                {
                    return;
                }

                if (view.Current is null)
                {
                    session.ReplyProtocolError(ReplyCatalogue.NoCurrentMessage);
                    return;
                }

                if (!view.Rights.HasFlag(MailboxRights.Delete))
                {
                    session.Reply(ReplyCatalogue.NoRight.Format("delete"));
                    return;
                }

                var moved = await store.TrashAsync(view.Mailbox.Id, view.Current.DeliveryId, CancellationToken.None).ConfigureAwait(false);
                session.Reply(moved == 0 ? ReplyCatalogue.MessageGone.Reply : ReplyCatalogue.MessagesTrashed.Format(moved));
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

            session.Reply(ReplyCatalogue.MessagesTrashed.Format(await store.TrashAsync(mailbox.Id, null, CancellationToken.None).ConfigureAwait(false)));
        });
}
