using Mailroom.Protocol.Replies;

namespace Mailroom.Client;

/// <summary>A message the server took: its final reply, the recipients it refused, and how long the
/// server took from the end of the data to its reply.</summary>
public sealed record SendResult(SmtpReply Reply, IReadOnlyList<(string Recipient, SmtpReply Reply)> Refused, TimeSpan DataLatency)
{
    /// <summary>The server's id for the message, the last word of "250 2.0.0 OK: queued as ID".</summary>
    public string QueueId => Reply.Lines[^1].Split(' ')[^1];
}
