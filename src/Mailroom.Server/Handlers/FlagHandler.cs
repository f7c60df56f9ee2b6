using Mailroom.Core.Audit;
using Mailroom.Core.Storage;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>FLAG &lt;important|read&gt; [on|off]: changes the current message's flag for this user only.</summary>
internal static class FlagHandler
{
    public static Task HandleAsync(SmtpSession session, FlagCommand command) =>
        !MailboxCommands.Allowed(session, needsOpenMailbox: true) ? Task.CompletedTask : MailboxCommands.RunAsync(session, async () =>
        {
            // RFC 4314's "w"-like right: reading a message marks it read without it, but FLAG needs it.
            if (await MailboxCommands.CurrentMessageViewAsync(session, MailboxRights.Mark, "change flags").ConfigureAwait(false) is not { Current: { } current } view)
            {
                return;
            }

            var store = session.Services.Store;
            var reader = session.LoggedInAccount!.Id;
            var kind = command.Important ? FlagKind.Important : FlagKind.Read;
            if (!await store.SetFlagAsync(view.Mailbox.Id, current.DeliveryId, reader, kind, command.Value, CancellationToken.None).ConfigureAwait(false))
            {
                session.Reply(ReplyCatalogue.MessageGone);
                return;
            }

            session.RecordAudit(session.NewAuditEvent(AuditKinds.MailboxFlag) with
            {
                Mailbox = view.Mailbox.Address,
                MessageId = current.MessageId,
                Detail = (command.Important ? "important" : "read") + (command.Value ? " on" : " off"),
            });
            var now = (await store.ListMailboxAsync(view.Mailbox.Id, reader, CancellationToken.None).ConfigureAwait(false))
                .FirstOrDefault(e => e.DeliveryId == current.DeliveryId);
            session.Reply(now is null ? ReplyCatalogue.MessageGone.Reply : ReplyCatalogue.FlagChanged.Format(now.MessageId, MailboxView.Flags(now)));
        });
}
