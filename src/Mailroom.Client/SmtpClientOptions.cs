namespace Mailroom.Client;

/// <summary>How a connection protects itself.</summary>
public enum TlsMode
{
    /// <summary>Implicit TLS on port 465 (RFC 8314), otherwise STARTTLS when offered, otherwise plain.</summary>
    Auto,

    /// <summary>STARTTLS (RFC 3207), or fail: never continue in plaintext.</summary>
    StartTls,

    /// <summary>TLS from the first byte, before the greeting (RFC 8314 3.3).</summary>
    Implicit,

    /// <summary>Plaintext, even when STARTTLS is offered.</summary>
    None,
}

/// <summary>Settings for <see cref="SmtpConnection.ConnectAsync(string, int, SmtpClientOptions, CancellationToken)"/>.</summary>
public sealed record SmtpClientOptions
{
    /// <summary>The EHLO argument.</summary>
    public string ClientName { get; init; } = "localhost";

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long each command (each reply, each write) may take before the connection is given up.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public TlsMode Tls { get; init; } = TlsMode.Auto;

    /// <summary>The name the certificate is validated against; the host connected to by default.</summary>
    public string? TlsHost { get; init; }

    /// <summary>
    /// A certificate's SHA-256 fingerprint in hex (colons and spaces allowed, any case): trust exactly
    /// this certificate, self-signed or not, instead of the CA chain.
    /// </summary>
    public string? PinnedCertificateSha256 { get; init; }

    /// <summary>Use XCAESAR with this shift when offered (an obfuscation, not encryption); fail when it is not offered.</summary>
    public byte? CaesarShift { get; init; }

    /// <summary>
    /// The fewest SCRAM-SHA-256 iterations accepted from a server (RFC 7677 4: at least 4096); a
    /// lower count is refused with <see cref="SmtpSecurityException"/>, before any proof is sent.
    /// </summary>
    public int MinimumScramIterations { get; init; } = Mailroom.Protocol.Sasl.ScramSha256Client.DefaultMinimumIterations;

    /// <summary>
    /// The largest message NEXT or PREV may announce (256 MiB by default); a larger count is taken
    /// as a hostile or broken server, not allocated: <see cref="SmtpProtocolException"/>.
    /// </summary>
    public int MaxMessageFetchSize { get; init; } = 256 * 1024 * 1024;

    /// <summary>The default of <see cref="MaxReplySize"/>: 64 MiB, a LIST of about half a million messages.</summary>
    public const long DefaultMaxReplySize = 64L * 1024 * 1024;

    /// <summary>
    /// The longest reply taken, all its lines together (64 MiB by default: LIST sends a line per
    /// message); a server that goes on past it is taken as hostile or broken: <see cref="SmtpProtocolException"/>.
    /// </summary>
    public long MaxReplySize { get; init; } = DefaultMaxReplySize;

    /// <summary>Called with (fromServer, line) for every line on the wire; AUTH and LOGN secrets appear as "&lt;redacted&gt;".</summary>
    public Action<bool, string>? Trace { get; init; }
}
