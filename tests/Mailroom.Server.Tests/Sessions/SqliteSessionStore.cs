using System.Net;
using System.Text;
using Mailroom.Core.Accounts;
using Mailroom.Core.Audit;
using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;
using Mailroom.Storage.Sqlite;

namespace Mailroom.Server.Tests.Sessions;

/// <summary>
/// A real SQLite store in a temporary folder for session tests that need accounts and mailboxes
/// (log-ins, READ, DELE): the domain example.test, the accounts alice and bob, and the shared
/// mailbox support@ that alice may read and bob may read, mark and delete in.
/// </summary>
public sealed class SqliteSessionStore : IAsyncDisposable
{
    public const string Alice = "alice@example.test";
    public const string Bob = "bob@example.test";
    public const string Support = "support@example.test";

    /// <summary>The password of every account.</summary>
    public const string Password = "correct horse battery staple";

    private SqliteSessionStore(string folder, SqliteMailStore store, Authenticator authenticator)
    {
        Folder = folder;
        Store = store;
        Authenticator = authenticator;
    }

    public string Folder { get; }

    public SqliteMailStore Store { get; }

    public Authenticator Authenticator { get; }

    public static async Task<SqliteSessionStore> CreateAsync()
    {
        var folder = Directory.CreateTempSubdirectory("mailroom-session-").FullName;
        var store = await SqliteMailStore.OpenAsync(folder, CancellationToken.None);
        await store.AddDomainAsync("example.test", CancellationToken.None);
        var hasher = new PasswordHasher(iterations: 1000);
        var alice = await store.AddAccountAsync(Alice, hasher.Hash(Password), CancellationToken.None);
        var bob = await store.AddAccountAsync(Bob, hasher.Hash(Password), CancellationToken.None);
        var support = await store.AddSharedMailboxAsync(Support, CancellationToken.None);
        await store.SetRightsAsync(support.Id, alice.Id, MailboxRights.Read, CancellationToken.None);
        await store.SetRightsAsync(support.Id, bob.Id, MailboxRights.Read | MailboxRights.Mark | MailboxRights.Delete, CancellationToken.None);
        return new SqliteSessionStore(folder, store, new Authenticator(store, hasher));
    }

    /// <summary>
    /// A session from 127.0.0.1 with log-ins allowed in clear (loopback) and the mailbox commands
    /// on, unless <paramref name="options"/> says otherwise.
    /// </summary>
    public SessionHarness Session(IAuditLog? audit, SmtpServerOptions? options = null) => new(
        options ?? Options(),
        Store,
        audit,
        Authenticator,
        new IPEndPoint(IPAddress.Loopback, 40000));

    public static SmtpServerOptions Options() => new()
    {
        HostName = "mx.test",
        ReverseDnsLookup = false,
        AllowPlaintextAuthOnLoopback = true,
        MailboxCommandsOnMx = true,
    };

    /// <summary>Stores a message in a mailbox as the receiver would have; returns its id.</summary>
    public async Task<string> DeliverAsync(string address, string text)
    {
        var mailbox = (await Store.FindMailboxAsync(address, CancellationToken.None))!;
        var id = MessageIds.New();
        await using var writer = await Store.BeginMessageAsync(new MessageEnvelope(id, "sender@remote.test", [new EnvelopeRecipient(mailbox, address)], DateTimeOffset.UtcNow), CancellationToken.None);
        await writer.WriteAsync(Encoding.ASCII.GetBytes(text), CancellationToken.None);
        await writer.CommitAsync(CancellationToken.None);
        return id;
    }

    public async ValueTask DisposeAsync()
    {
        Authenticator.Dispose();
        await Store.DisposeAsync();
        Directory.Delete(Folder, recursive: true);
    }
}
