using Mailroom.Core.Audit;
using Mailroom.Core.Storage;
using Mailroom.Protocol.Replies;

namespace Mailroom.Server.Session;

/// <summary>
/// NEXT and PREV: move through the open mailbox and send the message there. The framing is an
/// octet count: one reply line <c>250 2.0.0 &lt;number&gt; &lt;id&gt; &lt;octets&gt; octets follow; flags &lt;flags&gt;</c>,
/// then exactly that many octets of the stored message, as delivered. Nothing inside a message
/// (a lone ".", a line like "250 OK", bare CR or LF, 8-bit bytes) can be taken for its end or for
/// a reply. Reading a message marks it read for the user.
/// </summary>
internal static class MessageSender
{
    public static Task StepAsync(SmtpSession session, bool forward) =>
        !MailboxCommands.Allowed(session, needsOpenMailbox: true) ? Task.CompletedTask : MailboxCommands.RunAsync(session, async () =>
        {
            var store = session.Services.Store;
            if (await MailboxCommands.OpenViewAsync(session).ConfigureAwait(false) is not { } view)
            {
                return;
            }

            var reader = session.LoggedInAccount!.Id;
            var entries = await store.ListMailboxAsync(view.Mailbox.Id, reader, CancellationToken.None).ConfigureAwait(false);
            var target = view.Step(entries, forward);
            if (target is null)
            {
                session.Reply(forward ? ReplyCatalogue.NoNextMessage : ReplyCatalogue.NoPreviousMessage);
                return;
            }

            var body = await store.OpenMessageAsync(target.MessageId, CancellationToken.None).ConfigureAwait(false);
            if (body is null)
            {
                session.Reply(ReplyCatalogue.MessageGone);
                return;
            }

            await using (body.ConfigureAwait(false))
            {
                await store.SetFlagAsync(view.Mailbox.Id, target.DeliveryId, reader, FlagKind.Read, true, CancellationToken.None).ConfigureAwait(false);
                view.MoveTo(target);
                var flags = MailboxView.Flags(target with { Read = true });
                session.Reply(ReplyCatalogue.MessageFollows.Format(MailboxView.Number(entries, target), target.MessageId, body.Length, flags));
                session.RecordAudit(session.NewAuditEvent(AuditKinds.MailboxRead) with { Mailbox = view.Mailbox.Address, MessageId = target.MessageId });
                await session.SendRawAsync(body).ConfigureAwait(false);
            }
        });
}
