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
            if (await MailboxCommands.OpenViewAsync(session).ConfigureAwait(false) is not { } view)
            {
                return;
            }

            if (view.Current is null)
            {
                session.ReplyProtocolError(ReplyCatalogue.NoCurrentMessage);
                return;
            }

            // RFC 4314's "w"-like right: reading a message marks it read without it, but FLAG needs it.
            if (!view.Rights.HasFlag(MailboxRights.Mark))
            {
                session.Reply(ReplyCatalogue.NoRight.Format("change flags"));
                return;
            }

            var store = session.Services.Store;
            var reader = session.LoggedInAccount!.Id;
            var kind = command.Important ? FlagKind.Important : FlagKind.Read;
            if (!await store.SetFlagAsync(view.Mailbox.Id, view.Current.DeliveryId, reader, kind, command.Value, CancellationToken.None).ConfigureAwait(false))
            {
                session.Reply(ReplyCatalogue.MessageGone);
                return;
            }

            session.RecordAudit(session.NewAuditEvent(AuditKinds.MailboxFlag) with
            {
                Mailbox = view.Mailbox.Address,
                MessageId = view.Current.MessageId,
                Detail = (command.Important ? "important" : "read") + (command.Value ? " on" : " off"),
            });
            var now = (await store.ListMailboxAsync(view.Mailbox.Id, reader, CancellationToken.None).ConfigureAwait(false))
                .FirstOrDefault(e => e.DeliveryId == view.Current.DeliveryId);
            session.Reply(now is null ? ReplyCatalogue.MessageGone.Reply : ReplyCatalogue.FlagChanged.Format(now.MessageId, MailboxView.Flags(now)));
        });
}
