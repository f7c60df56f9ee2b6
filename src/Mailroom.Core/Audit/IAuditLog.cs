namespace Mailroom.Core.Audit;

/// <summary>
/// Where audit events go. <see cref="Record"/> returns at once and the entry reaches the disk
/// with the next batch; <see cref="RecordDurableAsync"/> returns only when the entry, and every
/// entry before it, is on disk, for the events whose reply must not come first (an accepted
/// message, a deletion).
/// </summary>
public interface IAuditLog
{
    /// <summary>False while the log cannot be written (a full disk, a failed fsync); true again once a write succeeds.</summary>
    bool IsWritable { get; }

    /// <summary>Queues an entry; never blocks and never throws for a failing disk.</summary>
    void Record(AuditEvent entry);

    /// <summary>Queues an entry and waits until it is on disk.</summary>
    /// <exception cref="AuditLogException">The entry could not be written.</exception>
    ValueTask RecordDurableAsync(AuditEvent entry, CancellationToken cancellationToken);
}

/// <summary>An audit log that keeps nothing: the audit log is turned off.</summary>
public sealed class NullAuditLog : IAuditLog
{
    public static readonly NullAuditLog Instance = new();

    private NullAuditLog()
    {
    }

    public bool IsWritable => true;

    public void Record(AuditEvent entry)
    {
    }

    public ValueTask RecordDurableAsync(AuditEvent entry, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>The audit log could not be written, opened or read.</summary>
public sealed class AuditLogException : IOException
{
    public AuditLogException()
    {
    }

    public AuditLogException(string message)
        : base(message)
    {
    }

    public AuditLogException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
