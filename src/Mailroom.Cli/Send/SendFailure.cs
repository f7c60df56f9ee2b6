using Mailroom.Client;
using Mailroom.Protocol.Replies;

namespace Mailroom.Cli.Send;

/// <summary>
/// The one place a failed send becomes an exit code and a line on standard error, so scripts can
/// tell "try later" from "this will never work" (sysexits.h, as sendmail uses them).
/// </summary>
internal static class SendFailure
{
    /// <summary>EX_DATAERR: the message itself was refused (too large, bad content).</summary>
    public const int DataError = 65;

    /// <summary>EX_UNAVAILABLE: refused for good for another reason (a recipient, a sender, a command).</summary>
    public const int Unavailable = 69;

    /// <summary>EX_TEMPFAIL: try again later (a 4xx reply, a server that cannot be reached or broke off).</summary>
    public const int TemporaryFailure = 75;

    /// <summary>EX_NOPERM: authentication or policy (5.7.x, a wrong password, TLS that cannot be had).</summary>
    public const int NoPermission = 77;

    /// <summary>The exit code for <paramref name="exception"/>, or null when it is not a send failure.</summary>
    public static int? ExitCodeOf(Exception exception) => exception switch
    {
        MessageTooLargeException => DataError,
        SmtpCommandException { Reply: { } reply } => OfReply(reply),
        SmtpCommandException => Unavailable,
        SmtpSecurityException => NoPermission,
        SmtpProtocolException protocol when protocol.InnerException is System.Security.Authentication.AuthenticationException => NoPermission,
        SmtpProtocolException => TemporaryFailure,
        IOException or TimeoutException => TemporaryFailure,
        _ => null,
    };

    /// <summary>RFC 5321 4.2.1 and RFC 3463: 4yz is transient; 5.7.x is security or policy; 5.6.x and 5.3.4 are the content.</summary>
    public static int OfReply(SmtpReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        if (reply.Code < 500)
        {
            return TemporaryFailure;
        }

        var enhanced = reply.Enhanced?.ToString();
        return enhanced switch
        {
            not null when enhanced.StartsWith("5.7.", StringComparison.Ordinal) => NoPermission,
            not null when enhanced.StartsWith("5.6.", StringComparison.Ordinal) || enhanced == "5.3.4" => DataError,
            _ when reply.Code is 535 or 530 or 538 => NoPermission,
            _ when reply.Code == 552 => DataError,
            _ => Unavailable,
        };
    }
}
