using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;
using Mailroom.Protocol.Replies;

namespace Mailroom.Server.Session;

/// <summary>
/// The beginning and the end of a message that DATA or BDAT carries: open the store's delivery
/// transaction with the trace headers, and at the end either commit it and say 250, or abort it
/// and say why. Nothing here says 250 before the store's commit has returned.
/// </summary>
internal static class MessageReception
{
    /// <summary>Opens the store for the current transaction; null (and a 451 queued) when the store fails.</summary>
    public static async Task<MessageSink?> BeginAsync(SmtpSession session)
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
            session.ReplyStorageFailure(ex);
            return null;
        }

        var sink = new MessageSink(writer, session.Options.MaxMessageSize, session.Options.MaxTextLineLength);
        var protocol = transaction.Parameters.SmtpUtf8 ? "UTF8SMTP" : session.IsExtended ? "ESMTP" : "SMTP";
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
        return sink;
    }

    /// <summary>Ends a message whose content has been read to its end.</summary>
    public static async Task CompleteAsync(SmtpSession session, MessageSink sink)
    {
        var refusal = sink.Refusal(session.Options.MaxMessageSize, session.Options.MaxTextLineLength);
        if (refusal is not null)
        {
            Log.MessageRefused(session.Logger, session.Connection.SessionId, sink.MessageId, refusal.Lines[0]);
            session.Reply(refusal);
            return;
        }

        if (sink.Fault is not null)
        {
            session.ReplyStorageFailure(sink.Fault);
            return;
        }

        try
        {
            await sink.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (StorageException ex)
        {
            session.ReplyStorageFailure(ex);
            return;
        }

        var transaction = session.Transaction!;
        session.MessagesAccepted++;
        Log.MessageAccepted(session.Logger, session.Connection.SessionId, sink.MessageId, transaction.Sender?.ToString() ?? string.Empty, transaction.Recipients.Count, sink.Length);
        session.Reply(ReplyCatalogue.MessageAccepted.Format(sink.MessageId));
    }
}
