namespace Mailroom.Core.Storage;

/// <summary>
/// What a user may do in a mailbox that is not their own, after RFC 4314's rights: r (read: open
/// it and see its messages), m (mark: change flags), d (delete: move messages to the trash),
/// a (administer: grant and revoke). A user's own mailbox allows everything.
/// </summary>
[Flags]
public enum MailboxRights
{
    None = 0,
    Read = 1,
    Mark = 2,
    Delete = 4,
    Administer = 8,
    All = Read | Mark | Delete | Administer,
}

public static class MailboxRightsText
{
    private const string Letters = "rmda";

    /// <summary>Parses letters such as "rm" or "rmda"; false for anything else.</summary>
    public static bool TryParse(string text, out MailboxRights rights)
    {
        ArgumentNullException.ThrowIfNull(text);
        rights = MailboxRights.None;
        if (text.Length == 0)
        {
            return false;
        }

        foreach (var c in text)
        {
            var index = Letters.IndexOf(char.ToLowerInvariant(c), StringComparison.Ordinal);
            if (index < 0)
            {
                return false;
            }

            rights |= (MailboxRights)(1 << index);
        }

        return true;
    }

    /// <summary>The letters of <paramref name="rights"/>, in the order r, m, d, a; "-" for none.</summary>
    public static string Format(MailboxRights rights)
    {
        var letters = string.Concat(Letters.Where((_, i) => rights.HasFlag((MailboxRights)(1 << i))));
        return letters.Length == 0 ? "-" : letters;
    }
}

/// <summary>One user's rights on a mailbox.</summary>
public sealed record MailboxGrant(string Mailbox, string User, MailboxRights Rights);
