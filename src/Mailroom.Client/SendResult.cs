using System.Text.RegularExpressions;
using Mailroom.Protocol.Replies;

namespace Mailroom.Client;

/// <summary>A message the server took: its final reply, the recipients it refused, and how long the
/// server took from the end of the data to its reply.</summary>
public sealed partial record SendResult(SmtpReply Reply, IReadOnlyList<(string Recipient, SmtpReply Reply)> Refused, TimeSpan DataLatency)
{
    /// <summary>
    /// The server's id for the message when the reply names one, as "queued as ID" (Postfix, ours)
    /// or "id=ID" (Exim and others) do; null otherwise. RFC 5321 gives the 250's text no form, so a
    /// word picked from anywhere else would be a guess.
    /// </summary>
    public string? QueueId
    {
        get
        {
            var match = QueueIdPattern().Match(ReplyText);
            var id = match.Success ? match.Groups[1].Value.TrimEnd('.', ',', ';', ':', '!', '?', ')', ']', '>', '"', '\'') : string.Empty;
            return id.Length == 0 ? null : id;
        }
    }

    /// <summary>The reply's text lines, joined with LF, to show the whole of what the server said.</summary>
    public string ReplyText => string.Join('\n', Reply.Lines);

    [GeneratedRegex(@"(?:\bqueued\s+as\s+|\bid=)(\S+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex QueueIdPattern();
}
