namespace Mailroom.Core.Audit;

/// <summary>
/// One thing that happened, as the audit log keeps it. Built where the event happens, and
/// redacted there: no password, SASL payload or message body ever goes into one. The log adds
/// the sequence number, the node and the chain hashes when it writes the entry.
/// </summary>
public sealed record AuditEvent
{
    /// <summary>What happened: one of <see cref="AuditKinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>How it ended.</summary>
    public required AuditOutcome Outcome { get; init; }

    /// <summary>When it happened (UTC); <see cref="DateTimeOffset.MinValue"/> means "when the log takes it".</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The SMTP session it belongs to, if any.</summary>
    public string? Session { get; init; }

    /// <summary>The client's address and port ("192.0.2.1:53211", "[2001:db8::1]:53211"), or "local" for the CLI.</summary>
    public string? Client { get; init; }

    /// <summary>The listener's role ("smtp", "submission", "submissions"), or "cli".</summary>
    public string? Listener { get; init; }

    /// <summary>The logged-in user; for a log-in, the account it was for; for the CLI, the operating-system user.</summary>
    public string? User { get; init; }

    /// <summary>The command verb as the client sent it, upper case ("MAIL", "AUTH"), or the CLI command ("user add").</summary>
    public string? Command { get; init; }

    /// <summary>The command's arguments, with every secret replaced by <see cref="Redacted"/>.</summary>
    public string? Arguments { get; init; }

    /// <summary>The reply's code and enhanced code ("250 2.1.0", "503 5.5.1"), or the CLI's exit code.</summary>
    public string? Reply { get; init; }

    /// <summary>The mailbox a mailbox action or a message concerns.</summary>
    public string? Mailbox { get; init; }

    /// <summary>The message id a message or mailbox action concerns.</summary>
    public string? MessageId { get; init; }

    /// <summary>A message's size in octets.</summary>
    public long? Size { get; init; }

    /// <summary>An accepted message's recipients, or the members a list expanded to.</summary>
    public IReadOnlyList<string>? Recipients { get; init; }

    /// <summary>Anything else worth keeping: the TLS protocol and cipher, why a session ended, a flag's new value.</summary>
    public string? Detail { get; init; }

    /// <summary>What stands where a secret was.</summary>
    public const string Redacted = "<redacted>";
}

/// <summary>How an audited event ended.</summary>
public enum AuditOutcome
{
    /// <summary>It worked (a 2xx or 3xx reply).</summary>
    Ok,

    /// <summary>It failed for now (a 4xx reply).</summary>
    Deferred,

    /// <summary>It was refused or failed for good (a 5xx reply, a wrong password).</summary>
    Refused,
}

/// <summary>The kinds of audit event.</summary>
public static class AuditKinds
{
    /// <summary>A client connected; <see cref="AuditEvent.Detail"/> has the local endpoint.</summary>
    public const string Connect = "connect";

    /// <summary>A session ended; <see cref="AuditEvent.Detail"/> says why and how many messages it carried.</summary>
    public const string Disconnect = "disconnect";

    /// <summary>A command line and the reply it got.</summary>
    public const string Command = "command";

    /// <summary>A TLS handshake, with its protocol and cipher, or why it failed.</summary>
    public const string Tls = "tls";

    /// <summary>A log-in attempt (AUTH or LOGN), the account it was for, and whether it worked.</summary>
    public const string Login = "login";

    /// <summary>A message was accepted: its id, size and recipients. On disk before the 250.</summary>
    public const string Message = "message";

    /// <summary>READ opened a mailbox.</summary>
    public const string MailboxOpen = "mailbox.open";

    /// <summary>A message was shown (NEXT, PREV).</summary>
    public const string MailboxRead = "mailbox.read";

    /// <summary>A flag was set or cleared.</summary>
    public const string MailboxFlag = "mailbox.flag";

    /// <summary>A message (or a whole mailbox) went to the trash. On disk before the reply.</summary>
    public const string MailboxDelete = "mailbox.delete";

    /// <summary>Messages left the trash for good, after the retention.</summary>
    public const string MailboxPurge = "mailbox.purge";

    /// <summary>Messages came back from the trash.</summary>
    public const string MailboxRestore = "mailbox.restore";

    /// <summary>An admin command run with the CLI, and its exit code.</summary>
    public const string Admin = "admin";

    /// <summary>The log was opened by a writer (a server start, an admin command).</summary>
    public const string LogStart = "audit.start";

    /// <summary>The writer closed the log cleanly.</summary>
    public const string LogStop = "audit.stop";

    /// <summary>Entries were lost (the log could not be written for a while); <see cref="AuditEvent.Detail"/> says how many.</summary>
    public const string LogGap = "audit.gap";
}
