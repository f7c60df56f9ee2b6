namespace Mailroom.Server;

/// <summary>
/// The receiver's settings, bound from the configuration section <c>Smtp</c>. Every limit has
/// the RFC's value or a common production value by default; see docs/CONFIGURATION.md.
/// </summary>
public sealed class SmtpServerOptions
{
    /// <summary>The name the server gives itself in the greeting, EHLO and Received headers.</summary>
    public string HostName { get; set; } = "localhost";

    /// <summary>RFC 1870: the largest message accepted, in octets, advertised with SIZE.</summary>
    public long MaxMessageSize { get; set; } = 50L * 1024 * 1024;

    /// <summary>RFC 5321 4.5.3.1.8: at least 100 recipients must be accepted; more get 452 4.5.3.</summary>
    public int MaxRecipients { get; set; } = 100;

    /// <summary>RFC 5321 4.5.3.1.4: 512 octets including CRLF; may be raised, never lowered below 512.</summary>
    public int MaxCommandLineLength { get; set; } = 512;

    /// <summary>RFC 5321 4.5.3.1.6: 1000 octets including CRLF; may be raised, never lowered below 1000.</summary>
    public int MaxTextLineLength { get; set; } = 1000;

    /// <summary>After this many protocol errors in one session the server answers 421 4.7.0 and closes.</summary>
    public int MaxProtocolErrors { get; set; } = 10;

    /// <summary>
    /// Refused recipients (550, 553) one session may collect between two accepted messages before
    /// the server answers 421 4.7.0 and closes: a sender with a few stale addresses is fine, one
    /// harvesting the directory is not.
    /// </summary>
    public int MaxRecipientRefusals { get; set; } = 20;

    /// <summary>
    /// Commands that move no mail (NOOP, RSET, VRFY, EXPN, HELP) allowed between two accepted
    /// messages before 421 4.7.0: a session cannot idle or probe forever.
    /// </summary>
    public int MaxJunkCommands { get; set; } = 100;

    /// <summary>
    /// Offer and accept AUTH and LOGN without TLS on a loopback connection (for local tools and
    /// tests). Everywhere else a password never crosses the network in clear (538 5.7.11).
    /// </summary>
    public bool AllowPlaintextAuthOnLoopback { get; set; }

    /// <summary>Failed log-ins in one session before 421 4.7.0 and close.</summary>
    public int MaxAuthFailuresPerSession { get; set; } = 3;

    /// <summary>Failed log-ins from one client address (IPv6: its /64) within <see cref="LoginFailureWindow"/> before 454 4.7.0.</summary>
    public int MaxLoginFailuresPerAddress { get; set; } = 10;

    /// <summary>
    /// Failed log-ins for one account from one client address within <see cref="LoginFailureWindow"/>
    /// before 454 4.7.0 for that pair. Failures for an account from anywhere only lengthen the delay,
    /// so nobody can lock an account out for its owner.
    /// </summary>
    public int MaxLoginFailuresPerAccount { get; set; } = 10;

    /// <summary>How long failed log-ins are remembered.</summary>
    public TimeSpan LoginFailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The wait before answering the first failed log-in; it doubles with each further failure.</summary>
    public TimeSpan LoginFailureDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest wait before answering a failed log-in.</summary>
    public TimeSpan MaxLoginFailureDelay { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>RFC 5321 4.5.3.2.7: the server waits at least 5 minutes for the next command.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>RFC 5321 4.5.3.2.5: 3 minutes for each block of data during DATA or BDAT.</summary>
    public TimeSpan DataTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Who may learn addresses through VRFY and EXPN (RFC 5321 3.5): nobody (VRFY 252, EXPN 502),
    /// users who logged in (the default), or anyone.
    /// </summary>
    public AddressDisclosure VrfyExpn { get; set; } = AddressDisclosure.Authenticated;

    /// <summary>
    /// Accept the mailbox commands (READ, NEXT, PREV, FLAG, DELE, LIST, RTRN) on the MX listener
    /// too; they always work on the submission listeners, after a log-in.
    /// </summary>
    public bool MailboxCommandsOnMx { get; set; }

    /// <summary>
    /// Offer the original design's Caesar "encryption" (XCAESAR) on connections without TLS. It is
    /// obfuscation that protects nothing; off by default, and never offered once TLS is on.
    /// </summary>
    public bool AllowCaesarObfuscation { get; set; }

    /// <summary>How long a TLS handshake (STARTTLS or implicit) may take before the connection is dropped.</summary>
    public TimeSpan TlsHandshakeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Connections served at once; further ones get 421 4.3.2.</summary>
    public int MaxConnections { get; set; } = 1000;

    /// <summary>Connections from one client address at once; further ones get 421 4.7.0.</summary>
    public int MaxConnectionsPerAddress { get; set; } = 20;

    /// <summary>On shutdown, how long a transfer in progress may take to finish before it is cut.</summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Look up the client's host name for the Received header (RFC 5321 4.4).</summary>
    public bool ReverseDnsLookup { get; set; } = true;

    /// <summary>The mailbox postmaster mail goes to when a domain has no postmaster account of its own.</summary>
    public string? Postmaster { get; set; }

    /// <summary>
    /// While the audit log cannot be written: <see cref="AuditFailurePolicy.Refuse"/> (the default)
    /// answers MAIL, READ, NEXT, PREV, DELE and FLAG with 451 4.3.0 and confirms no message or deletion whose entry
    /// is not on disk; <see cref="AuditFailurePolicy.Continue"/> logs the failure and carries on unaudited.
    /// </summary>
    public AuditFailurePolicy AuditOnFailure { get; set; } = AuditFailurePolicy.Refuse;

    /// <summary>Rejects settings that would break the protocol rather than failing later.</summary>
    public void Validate()
    {
        if (MaxCommandLineLength < 512)
        {
            throw new ArgumentException("Smtp:MaxCommandLineLength must be at least 512 (RFC 5321 4.5.3.1.4).");
        }

        if (MaxTextLineLength < 1000)
        {
            throw new ArgumentException("Smtp:MaxTextLineLength must be at least 1000 (RFC 5321 4.5.3.1.6).");
        }

        if (MaxRecipients < 1 || MaxMessageSize < 1 || MaxProtocolErrors < 1 || MaxConnections < 1 || MaxConnectionsPerAddress < 1 ||
            MaxRecipientRefusals < 1 || MaxJunkCommands < 1)
        {
            throw new ArgumentException("Smtp limits must be positive.");
        }

        if (CommandTimeout <= TimeSpan.Zero || DataTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("Smtp timeouts must be positive.");
        }
    }
}

/// <summary>Who VRFY and EXPN answer truthfully.</summary>
public enum AddressDisclosure
{
    Off,
    Authenticated,
    Anyone,
}
