using System.Collections.Concurrent;
using Mailroom.Core.Storage;

namespace Mailroom.Server.Tests.Fakes;

/// <summary>Where the fake store fails, for the storage-fault tests.</summary>
public enum FaultPoint
{
    None,
    Resolve,
    Begin,
    Write,
    Commit,
}

/// <summary>
/// A store in memory for session tests, with faults on demand. The SQLite store has its own
/// tests against a real file; this one lets a session test see exactly what was committed.
/// </summary>
public sealed class InMemoryMailStore : IMailStore
{
    private readonly ConcurrentDictionary<string, MailboxRef> _mailboxes = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, byte> _domains = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, byte[]> _secrets = new(StringComparer.Ordinal);
    private long _nextId;

    public ConcurrentDictionary<string, (MessageEnvelope Envelope, byte[] Body)> Committed { get; } = new();

    private int _openWriters;

    public int OpenWriters => Volatile.Read(ref _openWriters);

    public FaultPoint FailAt { get; set; }

    public bool FailAsFull { get; set; }

    public InMemoryMailStore WithDomain(string domain)
    {
        _domains[domain] = 0;
        return this;
    }

    public InMemoryMailStore WithMailbox(string address)
    {
        _mailboxes[address] = new MailboxRef(Interlocked.Increment(ref _nextId), address.ToLowerInvariant(), "INBOX");
        return this;
    }

    private void MaybeFail(FaultPoint point)
    {
        if (FailAt == point)
        {
            throw new StorageException($"injected fault at {point}") { IsFull = FailAsFull };
        }
    }

    public Task<bool> IsLocalDomainAsync(string domain, CancellationToken cancellationToken)
    {
        MaybeFail(FaultPoint.Resolve);
        return Task.FromResult(_domains.ContainsKey(domain));
    }

    public Task<MailboxRef?> FindMailboxAsync(string address, CancellationToken cancellationToken) =>
        Task.FromResult(_mailboxes.TryGetValue(address, out var m) ? m : null);

    public Task<MailboxRef> EnsureSystemMailboxAsync(string address, CancellationToken cancellationToken) =>
        Task.FromResult(_mailboxes.GetOrAdd(address, a => new MailboxRef(Interlocked.Increment(ref _nextId), a, "INBOX")));

    public Task<byte[]> GetOrAddSecretAsync(string name, byte[] candidate, CancellationToken cancellationToken) =>
        Task.FromResult(_secrets.GetOrAdd(name, candidate));

    public Task<IMessageWriter> BeginMessageAsync(MessageEnvelope envelope, CancellationToken cancellationToken)
    {
        MaybeFail(FaultPoint.Begin);
        Interlocked.Increment(ref _openWriters);
        return Task.FromResult<IMessageWriter>(new Writer(this, envelope));
    }

    public Task<IReadOnlyList<MessageSummary>> ListMessagesAsync(string? mailboxAddress, CancellationToken cancellationToken) =>
        throw new NotSupportedException();

    public Task<Stream?> OpenMessageAsync(string messageId, CancellationToken cancellationToken) =>
        Task.FromResult<Stream?>(Committed.TryGetValue(messageId, out var m) ? new MemoryStream(m.Body) : null);

    public Task<bool> AddDomainAsync(string domain, CancellationToken cancellationToken) => Task.FromResult(_domains.TryAdd(domain, 0));

    public Task<bool> RemoveDomainAsync(string domain, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<string>> ListDomainsAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([.. _domains.Keys]);

    public Task<Account> AddAccountAsync(string address, string passwordHash, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> SetPasswordHashAsync(string address, string passwordHash, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> RemoveAccountAsync(string address, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<Account?> FindAccountAsync(string address, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<Account>> ListAccountsAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

    // The receiver never reads mailboxes; the SQLite store's own tests cover these.
    public Task<IReadOnlyList<MailboxEntry>> ListMailboxAsync(long mailboxId, long readerAccountId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> SetFlagAsync(long mailboxId, long deliveryId, long readerAccountId, FlagKind flag, bool value, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<int> TrashAsync(long mailboxId, long? deliveryId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<int> RestoreAsync(long mailboxId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<int> PurgeTrashAsync(DateTimeOffset trashedBefore, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<MailboxRef> AddSharedMailboxAsync(string address, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> RemoveSharedMailboxAsync(string address, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<MailboxRef>> ListMailboxesAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task SetRightsAsync(long mailboxId, long accountId, MailboxRights rights, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<MailboxRights> GetRightsAsync(long mailboxId, long accountId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<MailboxGrant>> ListGrantsAsync(long mailboxId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<MailingList> AddListAsync(string address, PostingPolicy policy, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> RemoveListAsync(string address, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<MailingList?> FindListAsync(string address, CancellationToken cancellationToken) => Task.FromResult<MailingList?>(null);

    public Task<IReadOnlyList<MailingList>> ListListsAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> SetListMemberAsync(string list, string member, bool add, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<bool> SetListSenderAsync(string list, string sender, bool add, CancellationToken cancellationToken) => throw new NotSupportedException();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class Writer(InMemoryMailStore store, MessageEnvelope envelope) : IMessageWriter
    {
        private readonly MemoryStream _body = new();
        private bool _done;

        public string MessageId => envelope.MessageId;

        public long Length => _body.Length;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            store.MaybeFail(FaultPoint.Write);
            _body.Write(data.Span);
            return ValueTask.CompletedTask;
        }

        public Task CommitAsync(CancellationToken cancellationToken)
        {
            store.MaybeFail(FaultPoint.Commit);
            store.Committed[envelope.MessageId] = (envelope, _body.ToArray());
            _done = true;
            Interlocked.Decrement(ref store._openWriters);
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            if (!_done)
            {
                _done = true;
                Interlocked.Decrement(ref store._openWriters);
            }

            return ValueTask.CompletedTask;
        }
    }
}
