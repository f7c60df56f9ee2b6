namespace Mailroom.Protocol.Commands;

public enum SmtpVerb
{
    Helo,
    Ehlo,
    Mail,
    Rcpt,
    Data,
    Bdat,
    Rset,
    Noop,
    Quit,
    Help,
    Vrfy,
    Expn,
    Starttls,
    Auth,

    /// <summary>The original design's log-in command: <c>LOGN &lt;user&gt; &lt;password&gt;</c>.</summary>
    Logn,

    /// <summary>The original design's Caesar "encryption": opt-in obfuscation that protects nothing.</summary>
    Xcaesar,

    // The original design's mailbox commands (after a log-in).
    Read,
    Next,
    Prev,
    Flag,
    Dele,
    List,
    Rtrn,
}

/// <summary>Where a session stands in the RFC 5321 section 4.1.4 command sequence.</summary>
[Flags]
public enum SmtpState
{
    None = 0,

    /// <summary>The greeting was sent; no HELO or EHLO yet.</summary>
    Connected = 1,

    /// <summary>HELO or EHLO accepted; no transaction open.</summary>
    Greeted = 2,

    /// <summary>MAIL accepted; no recipient accepted yet.</summary>
    MailGiven = 4,

    /// <summary>At least one RCPT accepted.</summary>
    RcptGiven = 8,

    /// <summary>A BDAT without LAST was accepted (RFC 3030 section 2): only BDAT, RSET, NOOP and QUIT follow.</summary>
    Chunking = 16,

    Any = Connected | Greeted | MailGiven | RcptGiven | Chunking,
}
