using Mailroom.Protocol.Replies;

namespace Mailroom.Client;

/// <summary>The server refused a command; the connection is still usable.</summary>
public sealed class SmtpCommandException : Exception
{
    public SmtpCommandException()
        : this("The command was refused.")
    {
    }

    public SmtpCommandException(string message)
        : base(message)
    {
    }

    public SmtpCommandException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public SmtpCommandException(string command, SmtpReply reply)
        : base($"{command} was refused: {reply?.ToString().TrimEnd()}")
    {
        Reply = reply;
    }

    public SmtpReply? Reply { get; }
}

/// <summary>The protocol or the connection broke; reconnect before trying again.</summary>
public class SmtpProtocolException : Exception
{
    public SmtpProtocolException()
    {
    }

    public SmtpProtocolException(string message)
        : base(message)
    {
    }

    public SmtpProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The connection could not be made safe, so the client stopped: TLS asked for but not offered or
/// refused, a certificate or a SCRAM server proof that does not check out, or credentials that
/// would have travelled in clear. Trying again will not help until something is changed.
/// </summary>
public sealed class SmtpSecurityException : SmtpProtocolException
{
    public SmtpSecurityException()
    {
    }

    public SmtpSecurityException(string message)
        : base(message)
    {
    }

    public SmtpSecurityException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The message is larger than the server's SIZE (RFC 1870); nothing was sent.</summary>
public sealed class MessageTooLargeException : Exception
{
    public MessageTooLargeException()
    {
    }

    public MessageTooLargeException(string message)
        : base(message)
    {
    }

    public MessageTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public MessageTooLargeException(long size, long limit)
        : base($"The message is {size} octets; the server takes at most {limit} (SIZE).")
    {
        Size = size;
        Limit = limit;
    }

    public long Size { get; }

    public long Limit { get; }
}
