namespace Mailroom.Server;

/// <summary>What the server does while the audit log cannot be written (a full disk, a failed fsync).</summary>
public enum AuditFailurePolicy
{
    /// <summary>
    /// Turn away new transactions (MAIL) and mailbox changes (DELE, FLAG) with 451 4.3.0, and
    /// answer 451 4.3.0 instead of 250 when the entry for an accepted message or a deletion cannot
    /// be written: nothing is confirmed unaudited.
    /// </summary>
    Refuse,

    /// <summary>Log the failure and go on as if audited: mail keeps flowing, and the log has a gap.</summary>
    Continue,
}
