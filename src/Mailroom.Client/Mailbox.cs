namespace Mailroom.Client;

/// <summary>The flags FLAG can change (docs/PROTOCOL.md, the mailbox commands).</summary>
#pragma warning disable CA1711 // The name is the public API others build on; it is the FLAG command's argument, not a [Flags] enum.
public enum MailFlag
#pragma warning restore CA1711
{
    Important,
    Read,
}

/// <summary>READ's answer: the mailbox's name as the server gives it, its size and how much is unread.</summary>
public sealed record MailboxStatus(string Mailbox, int Messages, int Unread);

/// <summary>A message NEXT or PREV sent: its number in the mailbox, id, flags and the stored octets.</summary>
#pragma warning disable CA1819 // The content is the octets as received; a copy per access would be waste.
public sealed record MailboxMessage(int Number, string Id, string Flags, byte[] Content);
#pragma warning restore CA1819

/// <summary>One line of LIST: the arrival time, size, flags, envelope sender (null for &lt;&gt;) and subject (null when empty).</summary>
public sealed record MailboxListing(int Number, string Id, long Size, string Flags, string? From, string? Subject, DateTimeOffset? Date);
