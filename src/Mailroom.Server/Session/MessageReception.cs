using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;
using Mailroom.Protocol.Replies;

namespace Mailroom.Server.Session;

/// <summary>
/// The beginning and the end of a message that DATA or BDAT carries: open the store's delivery
/// transaction with the trace headers, judge what arrived, and either commit it and say 250 or
/// let the transaction abort it. Nothing here says 250 before the store's commit has returned.
/// The sink belongs to the mail transaction, so every way a transaction ends aborts it alike.
/// </summary>
internal static class MessageReception
{
    /// <summary>Opens the store for the current transaction (its sink); on a store failure returns the reply to send.</summary>
    public static async Task<SmtpReply?> BeginAsync(SmtpSession session)
    {
        var transaction = session.Transaction!;
        var now = session.Services.Time.GetUtcNow();
        var id = MessageIds.New(session.Services.Time);
        var sender = transaction.Sender?.ToString() ?? string.Empty;
        var envelope = new MessageEnvelope(id, sender, transaction.Recipients, now);
        IMessageWriter writer;
        try
        {
            writer = await session.Services.Store.BeginMessageAsync(envelope, CancellationToken.None).ConfigureAwait(false);
        }
        catch (StorageException ex)
        {
            return session.StorageFailureReply(ex);
        }

        var sink = new MessageSink(writer, session.Options.MaxMessageSize, session.Options.MaxTextLineLength);
        transaction.Sink = sink;
        // RFC 3848 and RFC 6531 3.7.3: an S when TLS protects the session, an A when the client logged in.
        var protocol = (transaction.Parameters.SmtpUtf8 ? "UTF8SMTP" : session.IsExtended ? "ESMTP" : "SMTP") +
            (session.Transport.IsTls ? "S" : string.Empty) + (session.AuthenticatedUser is null ? string.Empty : "A");
        var trace = TraceHeaders.Build(
            sender,
            session.ClientIdentity ?? "unknown",
            await session.ReverseNameAsync().ConfigureAwait(false),
            session.Connection.Remote.Address,
            session.Options.HostName,
            protocol,
            id,
            transaction.AcceptedRecipientCount == 1 ? transaction.Recipients[0].Address : null,
            now);
        await sink.WriteTraceAsync(trace, CancellationToken.None).ConfigureAwait(false);
        return null;
    }

    /// <summary>
    /// Why what arrived so far cannot be accepted (too big, bare line endings, long lines, a store
    /// fault), or null. Logged here, so each refusal is logged once.
    /// </summary>
    public static SmtpReply? Judge(SmtpSession session, MessageSink sink, bool atEnd)
    {
        if (sink.Refusal(atEnd) is { } refusal)
        {
            Log.MessageRefused(session.Logger, session.Connection.SessionId, sink.MessageId, refusal.Lines[0]);
            return refusal;
        }

        return sink.Fault is { } fault ? session.StorageFailureReply(fault) : null;
    }

    /// <summary>Ends a message whose content has been read to its end: commit and 250, or the refusal.</summary>
    public static async Task CompleteAsync(SmtpSession session, MessageSink sink)
    {
        var problem = Judge(session, sink, atEnd: true);
        if (problem is null)
        {
            try
            {
                await sink.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (StorageException ex)
            {
                problem = session.StorageFailureReply(ex);
            }
        }

        if (problem is not null)
        {
            session.Reply(problem);
            return;
        }

        var transaction = session.Transaction!;
        session.CountAcceptedMessage();
        Log.MessageAccepted(session.Logger, session.Connection.SessionId, sink.MessageId, transaction.Sender?.ToString() ?? string.Empty, transaction.Recipients.Count, sink.Length);
        session.Reply(ReplyCatalogue.MessageAccepted.Format(sink.MessageId));
    }
}
