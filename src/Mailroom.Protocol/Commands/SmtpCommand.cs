using Mailroom.Protocol.Addressing;

namespace Mailroom.Protocol.Commands;

/// <summary>A parsed command line. Each verb with arguments has its own type.</summary>
public abstract record SmtpCommand(SmtpVerb Verb);

/// <summary>A command without arguments: DATA, RSET, QUIT (NOOP's optional string is dropped).</summary>
public sealed record SimpleCommand(SmtpVerb Verb) : SmtpCommand(Verb)
{
    private static readonly SimpleCommand[] Shared = Enum.GetValues<SmtpVerb>().Select(v => new SimpleCommand(v)).ToArray();

    /// <summary>
    /// One immutable instance per verb, so the parser allocates nothing for a command without
    /// arguments. Equality stays by value, as for any record.
    /// </summary>
    public static SimpleCommand Of(SmtpVerb verb) => Shared[(int)verb];
}

/// <summary>HELO or EHLO with the client's claimed identity (a domain or an address literal).</summary>
public sealed record HeloCommand(SmtpVerb Verb, string ClientIdentity) : SmtpCommand(Verb);

/// <summary><c>MAIL FROM:&lt;reverse-path&gt; [SP Mail-parameters]</c>; <see cref="Sender"/> null for &lt;&gt;.</summary>
public sealed record MailCommand(SmtpMailbox? Sender, string RawPath, IReadOnlyList<EsmtpParameter> Parameters) : SmtpCommand(SmtpVerb.Mail);

/// <summary><c>RCPT TO:&lt;forward-path&gt; [SP Rcpt-parameters]</c>.</summary>
public sealed record RcptCommand(SmtpMailbox Recipient, string RawPath, IReadOnlyList<EsmtpParameter> Parameters) : SmtpCommand(SmtpVerb.Rcpt);

/// <summary><c>bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CR LF</c> (RFC 3030 section 2).</summary>
public sealed record BdatCommand(long ChunkSize, bool Last) : SmtpCommand(SmtpVerb.Bdat);

/// <summary>A command whose argument is free text: HELP, VRFY, EXPN.</summary>
public sealed record ArgumentCommand(SmtpVerb Verb, string Argument) : SmtpCommand(Verb);

/// <summary>
/// <c>auth-command = "AUTH" SP sasl-mech [SP initial-response]</c> (RFC 4954 section 4);
/// <see cref="InitialResponse"/> is still base64, and "=" stands for an empty one.
/// </summary>
public sealed record AuthCommand(string Mechanism, string? InitialResponse) : SmtpCommand(SmtpVerb.Auth)
{
    /// <summary>The initial response is a secret: it never appears in logs or replies.</summary>
    public override string ToString() => $"AUTH {Mechanism}{(InitialResponse is null ? string.Empty : " <redacted>")}";
}

/// <summary><c>LOGN &lt;user&gt; &lt;password&gt;</c>: a log-in that follows AUTH's rules.</summary>
public sealed record LognCommand(string User, string Password) : SmtpCommand(SmtpVerb.Logn)
{
    public override string ToString() => $"LOGN {User} <redacted>";
}

/// <summary><c>XCAESAR &lt;shift&gt;</c>, shift 1 to 255: both sides then add the shift to every byte they send.</summary>
public sealed record CaesarCommand(byte Shift) : SmtpCommand(SmtpVerb.Xcaesar);

/// <summary><c>FLAG (important|read) [on|off]</c>: changes a flag of the current message for the user.</summary>
public sealed record FlagCommand(bool Important, bool Value) : SmtpCommand(SmtpVerb.Flag);

/// <summary><c>esmtp-param = esmtp-keyword ["=" esmtp-value]</c> (RFC 5321 4.1.2).</summary>
public sealed record EsmtpParameter(string Keyword, string? Value);
