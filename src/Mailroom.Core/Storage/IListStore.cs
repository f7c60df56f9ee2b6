namespace Mailroom.Core.Storage;

/// <summary>Who may send to a mailing list.</summary>
public enum PostingPolicy
{
    /// <summary>Anyone at all.</summary>
    Anyone,

    /// <summary>Only the list's members (by envelope sender).</summary>
    Members,

    /// <summary>Only the senders listed for it (by envelope sender).</summary>
    Senders,
}

/// <summary>A mailing list: an address whose mail goes to every member.</summary>
public sealed record MailingList(long Id, string Address, PostingPolicy Policy, IReadOnlyList<string> Members, IReadOnlyList<string> Senders);

/// <summary>Mailing lists. Members are addresses (local ones for now; a member may be another list).</summary>
public interface IListStore
{
    /// <summary>Adds a list at an address of a local domain that is no mailbox; <see cref="DirectoryConflictException"/> otherwise.</summary>
    Task<MailingList> AddListAsync(string address, PostingPolicy policy, CancellationToken cancellationToken);

    Task<bool> RemoveListAsync(string address, CancellationToken cancellationToken);

    Task<MailingList?> FindListAsync(string address, CancellationToken cancellationToken);

    Task<IReadOnlyList<MailingList>> ListListsAsync(CancellationToken cancellationToken);

    /// <summary>Adds (or with <paramref name="add"/> false removes) a member; false when nothing changed.</summary>
    Task<bool> SetListMemberAsync(string list, string member, bool add, CancellationToken cancellationToken);

    /// <summary>Adds (or removes) an allowed sender for <see cref="PostingPolicy.Senders"/>; false when nothing changed.</summary>
    Task<bool> SetListSenderAsync(string list, string sender, bool add, CancellationToken cancellationToken);
}
