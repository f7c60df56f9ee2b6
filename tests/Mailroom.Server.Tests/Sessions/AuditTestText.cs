using System.Globalization;
using System.Text;
using Mailroom.Protocol.Replies;

namespace Mailroom.Server.Tests.Sessions;

/// <summary>What the audit tests compare with: replies as a client saw them, and credentials as they travel.</summary>
internal static class AuditTestText
{
    /// <summary>A reply the client received, as "code enhanced-code" (or the code alone), the way the audit log should keep it.</summary>
    public static string Wire(SmtpReply reply) =>
        reply.Enhanced is { } enhanced ? reply.Code.ToString(CultureInfo.InvariantCulture) + " " + enhanced : reply.Code.ToString(CultureInfo.InvariantCulture);

    public static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    /// <summary>An RFC 4616 PLAIN message without an authorisation identity, in base64.</summary>
    public static string Plain(string user, string password) => Base64($"\0{user}\0{password}");

    /// <summary>The octet count a NEXT or PREV reply announces.</summary>
    public static long Octets(SmtpReply reply) => long.Parse(reply.Lines[0].Split(' ')[2], CultureInfo.InvariantCulture);
}
