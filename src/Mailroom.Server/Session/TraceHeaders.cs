using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mailroom.Server.Session;

/// <summary>The header lines a final-delivery server puts on top of each message.</summary>
internal static class TraceHeaders
{
    /// <summary>
    /// RFC 5321 4.4: "When the delivery SMTP server makes the 'final delivery' of a message, it
    /// inserts a return-path line at the beginning of the mail data", then the Received line
    /// every server adds:
    /// <c>Received: from (client's name) (TCP-info) by (our name) with (protocol) id (id) for (recipient); date</c>.
    /// The "for" clause names the recipient only when there is exactly one, so one recipient
    /// of a message does not learn of the others (section 7.2).
    /// </summary>
    public static byte[] Build(
        string sender,
        string heloName,
        string? reverseName,
        IPAddress clientAddress,
        string hostName,
        string protocol,
        string messageId,
        string? singleRecipient,
        DateTimeOffset now)
    {
        var literal = clientAddress.AddressFamily == AddressFamily.InterNetworkV6 && !clientAddress.IsIPv4MappedToIPv6
            ? "[IPv6:" + clientAddress + "]"
            : "[" + (clientAddress.IsIPv4MappedToIPv6 ? clientAddress.MapToIPv4() : clientAddress) + "]";
        var tcpInfo = reverseName is null ? literal : reverseName + " " + literal;
        var sb = new StringBuilder(256);
        sb.Append(CultureInfo.InvariantCulture, $"Return-Path: <{sender}>\r\n");
        sb.Append(CultureInfo.InvariantCulture, $"Received: from {heloName} ({tcpInfo})\r\n");
        sb.Append(CultureInfo.InvariantCulture, $"\tby {hostName} (Mailroom) with {protocol} id {messageId}\r\n");
        if (singleRecipient is not null)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\tfor <{singleRecipient}>");
        }
        else
        {
            sb.Append('\t');
        }

        // RFC 5322 3.3 date-time, always in UTC.
        sb.Append("; ").Append(now.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture)).Append("\r\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}
