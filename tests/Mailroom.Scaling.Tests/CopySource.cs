using System.Text;
using Mailroom.Core.Accounts;
using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;
using Mailroom.Storage.Sqlite;

namespace Mailroom.Scaling.Tests;

/// <summary>
/// A SQLite store with a bit of everything <c>mailroom db copy</c> moves: two domains, three
/// accounts, a shared mailbox with grants, the system postmaster mailbox, a list with members
/// and senders, messages (one to two mailboxes, a 2 MB binary one, a non-ASCII subject, one
/// in the trash) and flags set differently by an owner and by grantees. Removes its folder.
/// </summary>
internal sealed class CopySource : IAsyncDisposable
{
    public const string Alice = "alice@example.test";
    public const string Bob = "bob@example.test";
    public const string Carol = "carol@other.test";
    public const string Support = "support@example.test";
    public const string Team = "team@example.test";
    public const string AlicePassword = "alice-Pa55word";
    public const string NonAsciiSubject = "Grüße aus Köln ☃";

    /// <summary>What a first copy reports as copied, kind by kind.</summary>
    public const string FirstCopy = "copied 2 domain(s), 3 account(s), 2 shared mailbox(es), 3 grant(s), 1 list(s), 4 message(s), 6 flag(s)";

    private CopySource(string folder) => Folder = folder;

    /// <summary>The source data folder (the old server's <c>--data</c>).</summary>
    public string Folder { get; }

    public string TwoMailboxes { get; private set; } = "";

    public string Big { get; private set; } = "";

    public string Accented { get; private set; } = "";

    public string Trashed { get; private set; } = "";

    public static async Task<CopySource> CreateAsync(CancellationToken cancellationToken)
    {
        var source = new CopySource(Directory.CreateTempSubdirectory("mailroom-copy-source-").FullName);
        try
        {
            await using var store = await SqliteMailStore.OpenAsync(source.Folder, cancellationToken);
            await source.SeedAsync(store, cancellationToken);
            return source;
        }
        catch
        {
            await source.DisposeAsync();
            throw;
        }
    }

    public Task<SqliteMailStore> OpenAsync(CancellationToken cancellationToken) => SqliteMailStore.OpenAsync(Folder, cancellationToken);

    /// <summary>
    /// Asserts that <paramref name="target"/> holds what the source holds: the directory, every
    /// message outside the trash byte for byte with its id, time, sender and subject, and each
    /// reader's flags; that the trashed message is not there; and that alice's old password works.
    /// </summary>
    public async Task AssertCopiedAsync(IMailStore target, CancellationToken cancellationToken)
    {
        await using var source = await OpenAsync(cancellationToken);
        Assert.Equal(["example.test", "other.test"], (await target.ListDomainsAsync(cancellationToken)).Order(StringComparer.Ordinal));
        Assert.Equal(Accounts(await source.ListAccountsAsync(cancellationToken)), Accounts(await target.ListAccountsAsync(cancellationToken)));
        var alice = await target.FindAccountAsync(Alice, cancellationToken);
        Assert.True(PasswordHasher.Verify(AlicePassword, alice!.PasswordHash));
        Assert.False(PasswordHasher.Verify("not-" + AlicePassword, alice.PasswordHash));

        // Unknown users keep their SCRAM salts: the key behind them came over (candidates differ, so neither is stored here).
        Assert.Equal(
            await source.GetOrAddSecretAsync(Authenticator.FakeSaltSecret, [0], cancellationToken),
            await target.GetOrAddSecretAsync(Authenticator.FakeSaltSecret, [1], cancellationToken));

        var sourceMailboxes = await source.ListMailboxesAsync(cancellationToken);
        Assert.Equal([Alice, Bob, Carol, RecipientResolver.SystemPostmaster, Support], sourceMailboxes.Select(m => m.Address).Order(StringComparer.Ordinal));
        Assert.Equal(sourceMailboxes.Select(m => m.Address).Order(StringComparer.Ordinal), (await target.ListMailboxesAsync(cancellationToken)).Select(m => m.Address).Order(StringComparer.Ordinal));
        foreach (var mailbox in sourceMailboxes)
        {
            var copy = (await target.FindMailboxAsync(mailbox.Address, cancellationToken))!;
            Assert.Equal(await source.ListGrantsAsync(mailbox.Id, cancellationToken), await target.ListGrantsAsync(copy.Id, cancellationToken));
            foreach (var reader in await ReadersAsync(source, mailbox, cancellationToken))
            {
                var sourceReader = (await source.FindAccountAsync(reader, cancellationToken))!;
                var targetReader = (await target.FindAccountAsync(reader, cancellationToken))!;
                Assert.Equal(
                    Flags(await source.ListMailboxAsync(mailbox.Id, sourceReader.Id, cancellationToken)),
                    Flags(await target.ListMailboxAsync(copy.Id, targetReader.Id, cancellationToken)));
            }
        }

        Assert.Equal(2, (await target.ListGrantsAsync((await target.FindMailboxAsync(Support, cancellationToken))!.Id, cancellationToken)).Count);
        var list = (await target.FindListAsync(Team, cancellationToken))!;
        Assert.Equal(PostingPolicy.Senders, list.Policy);
        Assert.Equal([Alice, Carol], list.Members);
        Assert.Equal([Bob], list.Senders);

        var messages = Summaries(await target.ListMessagesAsync(null, cancellationToken));
        Assert.Equal(Summaries(await source.ListMessagesAsync(null, cancellationToken)), messages);
        Assert.Equal(5, messages.Count);
        Assert.Contains(messages, m => m.MessageId == Accented && m.Subject == NonAsciiSubject);
        Assert.DoesNotContain(messages, m => m.MessageId == Trashed);
        Assert.Null(await target.OpenMessageAsync(Trashed, cancellationToken));
        foreach (var id in messages.Select(m => m.MessageId).Distinct())
        {
            Assert.Equal(await ReadAllAsync(source, id, cancellationToken), await ReadAllAsync(target, id, cancellationToken));
        }

        Assert.Equal(2 * 1024 * 1024, messages.Single(m => m.MessageId == Big).Size - BigHeader.Length);
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        return ValueTask.CompletedTask;
    }

    private const string BigHeader = "From: <x@remote.test>\r\nSubject: big\r\nContent-Type: application/octet-stream\r\n\r\n";

    private async Task SeedAsync(SqliteMailStore store, CancellationToken cancellationToken)
    {
        await store.AddDomainAsync("example.test", cancellationToken);
        await store.AddDomainAsync("other.test", cancellationToken);
        await store.GetOrAddSecretAsync(Authenticator.FakeSaltSecret, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32), cancellationToken);
        var hasher = new PasswordHasher(iterations: 1000);
        var alice = await store.AddAccountAsync(Alice, hasher.Hash(AlicePassword), cancellationToken);
        var bob = await store.AddAccountAsync(Bob, hasher.Hash("bob-Pa55word"), cancellationToken);
        var carol = await store.AddAccountAsync(Carol, hasher.Hash("carol-Pa55word"), cancellationToken);
        var support = await store.AddSharedMailboxAsync(Support, cancellationToken);
        var postmaster = await store.EnsureSystemMailboxAsync(RecipientResolver.SystemPostmaster, cancellationToken);
        var aliceInbox = (await store.FindMailboxAsync(Alice, cancellationToken))!;
        var bobInbox = (await store.FindMailboxAsync(Bob, cancellationToken))!;
        var carolInbox = (await store.FindMailboxAsync(Carol, cancellationToken))!;
        await store.SetRightsAsync(support.Id, bob.Id, MailboxRights.Read | MailboxRights.Mark | MailboxRights.Delete, cancellationToken);
        await store.SetRightsAsync(support.Id, carol.Id, MailboxRights.Read | MailboxRights.Mark, cancellationToken);
        await store.SetRightsAsync(aliceInbox.Id, bob.Id, MailboxRights.Read | MailboxRights.Mark, cancellationToken);
        await store.AddListAsync(Team, PostingPolicy.Senders, cancellationToken);
        await store.SetListMemberAsync(Team, Alice, add: true, cancellationToken);
        await store.SetListMemberAsync(Team, Carol, add: true, cancellationToken);
        await store.SetListSenderAsync(Team, Bob, add: true, cancellationToken);

        var start = new DateTimeOffset(2025, 3, 14, 15, 9, 26, 535, TimeSpan.Zero);
        TwoMailboxes = await DeliverAsync(store, "x@remote.test", start, Text("To both"), cancellationToken, aliceInbox, support);
        var big = new byte[2 * 1024 * 1024];
        new Random(7).NextBytes(big);
        Big = await DeliverAsync(store, "x@remote.test", start.AddMinutes(1), [.. Encoding.ASCII.GetBytes(BigHeader), .. big], cancellationToken, bobInbox);
        var encoded = "=?UTF-8?B?" + Convert.ToBase64String(Encoding.UTF8.GetBytes(NonAsciiSubject)) + "?=";
        Accented = await DeliverAsync(store, "", start.AddMinutes(2), Text(encoded), cancellationToken, carolInbox);
        Trashed = await DeliverAsync(store, "y@remote.test", start.AddMinutes(3), Text("Thrown away"), cancellationToken, support);
        _ = await DeliverAsync(store, "z@remote.test", start.AddMinutes(4), Text("For the postmaster"), cancellationToken, postmaster);

        // The owner and a grantee see alice's INBOX differently; two grantees see support differently.
        await FlagAsync(store, aliceInbox, alice, TwoMailboxes, FlagKind.Read, cancellationToken);
        await FlagAsync(store, aliceInbox, alice, TwoMailboxes, FlagKind.Important, cancellationToken);
        await FlagAsync(store, aliceInbox, bob, TwoMailboxes, FlagKind.Important, cancellationToken);
        await FlagAsync(store, support, bob, TwoMailboxes, FlagKind.Read, cancellationToken);
        await FlagAsync(store, support, carol, TwoMailboxes, FlagKind.Important, cancellationToken);
        await FlagAsync(store, bobInbox, bob, Big, FlagKind.Read, cancellationToken);
        var trashed = (await store.ListMailboxAsync(support.Id, bob.Id, cancellationToken)).Single(e => e.MessageId == Trashed);
        Assert.Equal(1, await store.TrashAsync(support.Id, trashed.DeliveryId, cancellationToken));
    }

    private static byte[] Text(string subject) =>
        Encoding.ASCII.GetBytes($"From: <x@remote.test>\r\nSubject: {subject}\r\n\r\nHello.\r\n");

    private static async Task<string> DeliverAsync(SqliteMailStore store, string sender, DateTimeOffset received, byte[] body, CancellationToken cancellationToken, params MailboxRef[] mailboxes)
    {
        var envelope = new MessageEnvelope(MessageIds.New(), sender, [.. mailboxes.Select(m => new EnvelopeRecipient(m, m.Address))], received);
        await using var writer = await store.BeginMessageAsync(envelope, cancellationToken);
        await writer.WriteAsync(body, cancellationToken);
        await writer.CommitAsync(cancellationToken);
        return envelope.MessageId;
    }

    private static async Task FlagAsync(SqliteMailStore store, MailboxRef mailbox, Account reader, string messageId, FlagKind flag, CancellationToken cancellationToken)
    {
        var entry = (await store.ListMailboxAsync(mailbox.Id, reader.Id, cancellationToken)).Single(e => e.MessageId == messageId);
        Assert.True(await store.SetFlagAsync(mailbox.Id, entry.DeliveryId, reader.Id, flag, true, cancellationToken));
    }

    private static async Task<IReadOnlyList<string>> ReadersAsync(SqliteMailStore store, MailboxRef mailbox, CancellationToken cancellationToken)
    {
        var readers = (await store.ListGrantsAsync(mailbox.Id, cancellationToken)).Select(g => g.User).ToList();
        if (await store.FindAccountAsync(mailbox.Address, cancellationToken) is not null)
        {
            readers.Add(mailbox.Address);
        }

        return readers;
    }

    private static List<(string, string)> Accounts(IReadOnlyList<Account> accounts) =>
        [.. accounts.Select(a => (a.Address, a.PasswordHash)).Order()];

    private static List<(string, bool, bool)> Flags(IReadOnlyList<MailboxEntry> entries) =>
        [.. entries.Select(e => (e.MessageId, e.Read, e.Important)).Order()];

    private static List<MessageSummary> Summaries(IReadOnlyList<MessageSummary> messages) =>
        [.. messages.OrderBy(m => m.MessageId, StringComparer.Ordinal).ThenBy(m => m.Mailbox, StringComparer.Ordinal)];

    private static async Task<byte[]> ReadAllAsync(IMailStore store, string messageId, CancellationToken cancellationToken)
    {
        await using var stream = (await store.OpenMessageAsync(messageId, cancellationToken))!;
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, cancellationToken);
        return copy.ToArray();
    }
}
