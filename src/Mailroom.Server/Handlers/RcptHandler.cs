using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>RCPT (RFC 5321 4.1.1.3): adds a recipient, if the server will take mail for it.</summary>
internal static class RcptHandler
{
    public static async Task HandleAsync(SmtpSession session, RcptCommand command)
    {
        var transaction = session.Transaction!;
        if (command.Parameters.Count > 0)
        {
            session.ReplyProtocolError(ReplyCatalogue.ParameterNotRecognized.Format(command.Parameters[0].Keyword.ToUpperInvariant()));
            return;
        }

        // RFC 5321 4.5.3.1.8: at least 100 recipients must be buffered; beyond the limit, 452.
        if (transaction.AcceptedRecipientCount >= session.Options.MaxRecipients)
        {
            session.Reply(ReplyCatalogue.TooManyRecipients);
            return;
        }

        if (command.Recipient.IsInternational && !transaction.Parameters.SmtpUtf8)
        {
            session.ReplyRecipientRefused(ReplyCatalogue.NeedsSmtpUtf8);
            return;
        }

        RecipientResolution resolution;
        try
        {
            resolution = await session.Services.Recipients.ResolveAsync(command.Recipient, transaction.Sender, CancellationToken.None).ConfigureAwait(false);
        }
        catch (StorageException ex)
        {
            session.ReplyStorageFailure(ex);
            return;
        }

        switch (resolution.Status)
        {
            case RecipientStatus.Local:
                transaction.AddRecipient(resolution.Mailboxes, command.Recipient.ToString());
                session.State = SmtpState.RcptGiven;
                session.Reply(ReplyCatalogue.RecipientOk.Format(command.Recipient));
                break;
            case RecipientStatus.NotAllowedToPost:
                session.ReplyRecipientRefused(ReplyCatalogue.NotAllowedToPost.Format(command.Recipient));
                break;
            case RecipientStatus.UnknownMailbox:
                session.ReplyRecipientRefused(ReplyCatalogue.MailboxUnknown.Format(command.Recipient));
                break;
            default:
                // Never an open relay. A user who logged in could send out, once outbound delivery exists.
                session.ReplyRecipientRefused(session.AuthenticatedUser is null
                    ? ReplyCatalogue.RelayDenied.Format(command.Recipient.Domain)
                    : ReplyCatalogue.OutboundNotConfigured.Reply);
                break;
        }
    }
}
