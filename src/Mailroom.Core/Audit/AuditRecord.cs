namespace Mailroom.Core.Audit;

/// <summary>
/// One entry as read back: where it sits in its chain and file, and the event, or, when the
/// entry cannot be read (no key for it, a wrong key, a damaged line), why not. An unreadable entry
/// is reported rather than thrown, so one old key missing does not hide the rest of the log.
/// </summary>
/// <param name="Sequence">The entry's number in its stream; 0 for a line that is not an entry at all.</param>
/// <param name="Timestamp">When it happened (in the clear even in an encrypted log); for a damaged line, the time of the entry before it.</param>
/// <param name="Node">The node that wrote it.</param>
/// <param name="Stream">The stream it belongs to ("server", "cli").</param>
/// <param name="Event">The event, or null when it cannot be read.</param>
/// <param name="File">The file it was read from.</param>
/// <param name="Line">Its line in that file, from 1.</param>
/// <param name="Problem">Why the event cannot be read ("no key 1a2b3c4d5e6f7a8b for aes-256-gcm"), or null.</param>
public sealed record AuditRecord(long Sequence, DateTimeOffset Timestamp, string Node, string Stream, AuditEvent? Event, string File, int Line, string? Problem);
