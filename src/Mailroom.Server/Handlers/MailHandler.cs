using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>MAIL (RFC 5321 4.1.1.2): opens a transaction with the sender's address.</summary>
internal static class MailHandler
{
    public static Task HandleAsync(SmtpSession session, MailCommand command)
    {
        // RFC 6409 4.1 / RFC 8314: a submission listener takes mail only from users who logged in.
        if (session.Connection.RequiresAuth && session.AuthenticatedUser is null)
        {
            session.Reply(session.Transport.IsTls ? ReplyCatalogue.AuthRequired : ReplyCatalogue.TlsRequired);
            return Task.CompletedTask;
        }

        // RFC 5321 4.1.1.11: parameters belong to extensions, and a HELO client negotiated none.
        if (!session.IsExtended && command.Parameters.Count > 0)
        {
            session.ReplyProtocolError(ReplyCatalogue.ParameterNotRecognized.Format(command.Parameters[0].Keyword.ToUpperInvariant()));
            return Task.CompletedTask;
        }

        var refusal = MailParameters.TryInterpret(command.Parameters, out var parameters);
        if (refusal is not null)
        {
            session.ReplyProtocolError(refusal);
            return Task.CompletedTask;
        }

        // RFC 6531 3.7.4.1: a non-ASCII address without the SMTPUTF8 parameter gets 553 5.6.7.
        if (command.Sender?.IsInternational == true && !parameters.SmtpUtf8)
        {
            session.Reply(ReplyCatalogue.NeedsSmtpUtf8);
            return Task.CompletedTask;
        }

        // A user who logged in sends as themselves (RFC 6409 8.1 lets the server check the sender).
        if (session.AuthenticatedUser is { } user && !string.Equals(command.Sender?.ToString(), user, StringComparison.OrdinalIgnoreCase))
        {
            session.Reply(ReplyCatalogue.SenderNotOwned.Format(command.Sender?.ToString() ?? string.Empty));
            return Task.CompletedTask;
        }

        // RFC 1870 section 6: a declared size over the fixed maximum gets 552 at MAIL.
        if (parameters.DeclaredSize > session.Options.MaxMessageSize)
        {
            session.Reply(ReplyCatalogue.MessageTooBig.Format(session.Options.MaxMessageSize));
            return Task.CompletedTask;
        }

        session.Transaction = new MailTransaction(command.Sender, parameters);
        session.State = SmtpState.MailGiven;
        session.Reply(ReplyCatalogue.SenderOk.Format(command.Sender?.ToString() ?? string.Empty));
        return Task.CompletedTask;
    }
}
