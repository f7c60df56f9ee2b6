namespace Mailroom.Server;

/// <summary>What a listener is for; the role decides what a session must do before it may send.</summary>
public enum ListenerRole
{
    /// <summary>MX: receives mail for the local domains from anyone; STARTTLS and AUTH offered.</summary>
    Smtp,

    /// <summary>RFC 6409 message submission: STARTTLS before AUTH, AUTH before MAIL.</summary>
    Submission,

    /// <summary>RFC 8314 implicit TLS submission: TLS from the first byte, AUTH before MAIL.</summary>
    Submissions,
}

/// <summary>A listening address and its role; <see cref="ListenerRole.Submissions"/> listeners speak TLS first.</summary>
public sealed record SmtpListener(System.Net.IPEndPoint Endpoint, ListenerRole Role = ListenerRole.Smtp)
{
    public bool ImplicitTls => Role == ListenerRole.Submissions;

    /// <summary>Sessions on this listener must log in before MAIL.</summary>
    public bool RequiresAuth => Role != ListenerRole.Smtp;
}
