using Mailroom.Core.Storage;

namespace Mailroom.Server.Session;

/// <summary>
/// The mailbox a session has open (READ) and where it stands in it. Nothing is cached but the
/// current message's place: each command reads the mailbox afresh, so deletions and flags made by
/// other sessions show at once, and a current message deleted elsewhere is simply stepped past.
/// </summary>
internal sealed class MailboxView(MailboxRef mailbox, MailboxRights rights)
{
    public MailboxRef Mailbox { get; } = mailbox;

    /// <summary>The user's rights here, read again by every command (<see cref="MailboxCommands.OpenViewAsync"/>).</summary>
    public MailboxRights Rights { get; set; } = rights;

    /// <summary>The current message, or null before the first NEXT.</summary>
    public MailboxEntry? Current { get; private set; }

    /// <summary>The message after (or before) the current one in <paramref name="entries"/>; null past either end.</summary>
    public MailboxEntry? Step(IReadOnlyList<MailboxEntry> entries, bool forward)
    {
        if (Current is null)
        {
            return forward && entries.Count > 0 ? entries[0] : null;
        }

        return forward
            ? entries.FirstOrDefault(e => Compare(e, Current) > 0)
            : entries.LastOrDefault(e => Compare(e, Current) < 0);
    }

    public void MoveTo(MailboxEntry entry) => Current = entry;

    /// <summary>The 1-based place of <paramref name="entry"/> in <paramref name="entries"/>.</summary>
    public static int Number(IReadOnlyList<MailboxEntry> entries, MailboxEntry entry) =>
        entries.TakeWhile(e => e.DeliveryId != entry.DeliveryId).Count() + 1;

    public static string Flags(MailboxEntry entry) =>
        entry.Read && entry.Important ? "read,important" : entry.Read ? "read" : entry.Important ? "important" : "none";

    /// <summary>Mailbox order: arrival, then delivery id (<see cref="IMailboxStore.ListMailboxAsync"/>).</summary>
    private static int Compare(MailboxEntry a, MailboxEntry b)
    {
        var byTime = a.ReceivedUtc.CompareTo(b.ReceivedUtc);
        return byTime != 0 ? byTime : a.DeliveryId.CompareTo(b.DeliveryId);
    }
}
