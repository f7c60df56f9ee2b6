using Mailroom.Core.Audit;

namespace Mailroom.Server.Session;

/// <summary>
/// Hands one connection's audit events to the audit log, and applies
/// <see cref="SmtpServerOptions.AuditOnFailure"/>: the one place that decides what a failing audit
/// log means for a session. Nothing here throws or waits for ever: an audit log that fails in any
/// way is a policy outcome, never the end of a session.
/// </summary>
internal sealed class AuditRecorder(SmtpServices services, ConnectionInfo connection)
{
    private IAuditLog AuditLog => services.Audit;

    // Every entry of the connection names the client: formatted once, not per command.
    private readonly string _client = connection.Remote.ToString();

    private bool Refuses => services.Options.AuditOnFailure == AuditFailurePolicy.Refuse;

    /// <summary>
    /// True when work that must be audited may not start (MAIL and the mailbox commands that read or change mail): the log cannot be
    /// written now and the policy is <see cref="AuditFailurePolicy.Refuse"/>.
    /// </summary>
    public bool RefusesNewWork => Refuses && !AuditLog.IsWritable;

    /// <summary>The audit log is turned off: the entry for every command need not even be built.</summary>
    public bool IsOff => AuditLog is NullAuditLog;

    /// <summary>An event of this connection, stamped now; the log adds the node and the sequence number.</summary>
    public AuditEvent Event(string kind, AuditOutcome outcome, string? user) => new()
    {
        Kind = kind,
        Outcome = outcome,
        Timestamp = services.Time.GetUtcNow(),
        Session = connection.SessionId,
        Client = _client,
        Listener = AuditText.Listener(connection.Role),
        User = user,
    };

    /// <summary>Queues an entry; it reaches the disk with the log's next batch.</summary>
    public void Record(AuditEvent entry)
    {
        try
        {
            AuditLog.Record(entry);
        }
#pragma warning disable CA1031 // The contract says Record never throws; a log that does anyway must not end the session.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.AuditRecordFailed(services.Logger, ex, connection.SessionId, entry.Kind);
        }
    }

    /// <summary>
    /// Writes an entry that must be on disk before the reply that confirms what it records (an
    /// accepted message, a deletion). True when the reply may confirm it: the entry is on disk,
    /// or it is not and the policy is <see cref="AuditFailurePolicy.Continue"/>. False when the
    /// caller must answer 451 4.3.0 instead, though the change itself has already been made.
    /// </summary>
    public async Task<bool> RecordDurableAsync(AuditEvent entry, CancellationToken cancellationToken)
    {
        try
        {
            await AuditLog.RecordDurableAsync(entry, cancellationToken).ConfigureAwait(false);
            return true;
        }
#pragma warning disable CA1031 // AuditLogException, a timeout, or a bug in the log: each is "not audited", and the policy decides.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            var subject = entry.MessageId ?? entry.Mailbox ?? string.Empty;
            if (Refuses)
            {
                Log.DurableAuditFailed(services.Logger, ex, connection.SessionId, entry.Kind, subject);
                return false;
            }

            Log.DurableAuditSkipped(services.Logger, ex, connection.SessionId, entry.Kind, subject);
            return true;
        }
    }
}
