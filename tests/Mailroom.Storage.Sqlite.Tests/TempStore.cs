using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;

namespace Mailroom.Storage.Sqlite.Tests;

/// <summary>A real SQLite store in a fresh temporary folder, deleted afterwards.</summary>
public abstract class TempStore : IAsyncLifetime
{
    protected string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "mailroom-store-test-" + Guid.NewGuid().ToString("N"));

    protected SqliteMailStore Store { get; private set; } = null!;

    protected string MessagesDirectory => Path.Combine(DataDirectory, "messages");

    public async ValueTask InitializeAsync()
    {
        Store = await SqliteMailStore.OpenAsync(DataDirectory, CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    protected async Task ReopenAsync()
    {
        await Store.DisposeAsync();
        Store = await SqliteMailStore.OpenAsync(DataDirectory, CancellationToken.None);
    }

    protected string[] BodyFiles() =>
        Directory.Exists(MessagesDirectory)
            ? Directory.GetFiles(MessagesDirectory, "*", SearchOption.AllDirectories)
            : [];

    protected async Task<MailboxRef> AddUserAsync(string address)
    {
        var domain = address[(address.LastIndexOf('@') + 1)..];
        await Store.AddDomainAsync(domain, CancellationToken.None);
        await Store.AddAccountAsync(address, "$test$hash", CancellationToken.None);
        return (await Store.FindMailboxAsync(address, CancellationToken.None))!;
    }

    protected async Task<string> DeliverAsync(byte[] body, params MailboxRef[] mailboxes)
    {
        var id = MessageIds.New();
        var envelope = new MessageEnvelope(
            id,
            "sender@example.net",
            [.. mailboxes.Select(m => new EnvelopeRecipient(m, m.Address))],
            DateTimeOffset.UtcNow);
        await using var writer = await Store.BeginMessageAsync(envelope, CancellationToken.None);
        await writer.WriteAsync(body, CancellationToken.None);
        await writer.CommitAsync(CancellationToken.None);
        return id;
    }
}
