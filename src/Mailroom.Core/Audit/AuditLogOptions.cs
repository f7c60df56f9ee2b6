namespace Mailroom.Core.Audit;

/// <summary>Where and how a <see cref="FileAuditLog"/> writes.</summary>
public sealed record AuditLogOptions
{
    /// <summary>The folder of the log files (e.g. DATA/audit); made owner-only (0700 on Unix) if missing, since entries name users and addresses.</summary>
    public required string Folder { get; init; }

    /// <summary>
    /// The files' name prefix. Each writer (the server, the CLI) has its own stream, so they never
    /// interleave in one chain; one writer per stream at a time, enforced with a lock file.
    /// </summary>
    public string Stream { get; init; } = "server";

    /// <summary>Written in every entry, so logs of several nodes merge and still say where each entry came from.</summary>
    public required string Node { get; init; }

    /// <summary>
    /// The HMAC-SHA256 key that chains the entries (issue 5, item 2), at least 32 bytes. Whoever
    /// holds it can forge entries, so it lives in a key file apart from the log (see <see cref="AuditKeys.LoadOrCreateChainKey"/>).
    /// </summary>
#pragma warning disable CA1819 // The key is handed over once, at open; a copy is taken there.
    public required byte[] ChainKey { get; init; }
#pragma warning restore CA1819

    /// <summary>How the event fields are kept: in the clear by default, so jq and log shippers work (issue 5, item 4).</summary>
    public IAuditCipher Cipher { get; init; } = NoAuditCipher.Instance;

    /// <summary>A file that passes this size is closed and the next batch starts a new one, so files stay easy to ship and prune.</summary>
    public long MaxFileSize { get; init; } = 64 * 1024 * 1024;

    /// <summary>Start a new file when the UTC day changes, so old days can be archived or removed whole.</summary>
    public bool RotateDaily { get; init; } = true;

    /// <summary>
    /// The longest an entry recorded with <see cref="IAuditLog.Record"/> waits for its fsync: the
    /// bound on what a power loss can take, traded against an fsync per batch (issue 5, item 5).
    /// </summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A writer that opens goes on with the day's newest file when it ended cleanly, rather than
    /// start a file of its own: the admin stream opens once per command, and a file per command
    /// would bury the folder. After a crash (a torn line, a head anchor that lags) it starts a new file.
    /// </summary>
    public bool ContinueNewestFile { get; init; } = true;

    /// <summary>
    /// How many entries may wait in memory while the disk fails; beyond this, entries are dropped
    /// and counted, and an audit.gap entry says how many once writing works again, so a long
    /// outage cannot exhaust memory yet the loss is on the record.
    /// </summary>
    public int MaxPendingEntries { get; init; } = 100_000;

    /// <summary>How long to wait for another writer of the same stream to finish: the CLI waits a few seconds, the server not at all.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.Zero;
}
