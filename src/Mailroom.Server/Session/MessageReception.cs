using Mailroom.Core.Audit;
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

    /// <summary>
    /// Ends a message whose content has been read to its end: commit, the audit entry on disk,
    /// then 250; or the refusal. The entry comes before the 250 so that no confirmed message is
    /// missing from the audit log.
    /// </summary>
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
            catch (DirectoryConflictException ex)
            {
                // The id is stored already (ids are random, so next to never): nothing of this
                // message was kept, and the client may send it again.
                problem = session.StorageFailureReply(new StorageException(ex.Message, ex));
            }
        }

        if (problem is not null)
        {
            session.Reply(problem);
            return;
        }

        var transaction = session.Transaction!;

        // The message is stored, but if its entry cannot be written the client hears 451 and may
        // send it again: a duplicate in the mailbox is better than a message confirmed unaudited.
        if (!await session.RecordAuditDurablyAsync(MessageEvent(session, transaction, sink)).ConfigureAwait(false))
        {
            return;
        }

        session.CountAcceptedMessage();
        Log.MessageAccepted(session.Logger, session.Connection.SessionId, sink.MessageId, transaction.Sender?.ToString() ?? string.Empty, transaction.Recipients.Count, sink.Length);
        session.Reply(ReplyCatalogue.MessageAccepted.Format(sink.MessageId));
    }

    /// <summary>
    /// The message's entry: its id (the one in the 250), its size (the content, without the trace
    /// headers) and the RCPT addresses accepted. Where those are not the mailboxes it went to (a
    /// list expanded, postmaster mail for a domain without one), the mailboxes are in the detail.
    /// </summary>
    private static AuditEvent MessageEvent(SmtpSession session, MailTransaction transaction, MessageSink sink)
    {
        var mailboxes = transaction.Recipients.Select(r => r.Mailbox.Address).ToArray();
        var sameAsEnvelope = mailboxes.ToHashSet(StringComparer.OrdinalIgnoreCase).SetEquals(transaction.AcceptedAddresses);
        return session.NewAuditEvent(AuditKinds.Message) with
        {
            MessageId = sink.MessageId,
            Size = sink.Length,
            Recipients = [.. transaction.AcceptedAddresses],
            Detail = sameAsEnvelope ? null : "delivered to " + string.Join(", ", mailboxes),
        };
    }
}
