using Mailroom.Core.Storage;
using Mailroom.Storage.Contract;

namespace Mailroom.Storage.Sqlite.Tests;

// The store contract suite, run on SQLite: each class opens a store in its own temporary folder.

public sealed class SqliteDirectoryContract : DirectoryContract
{
    private readonly SqliteTempFolder _folder = new();

    protected override Task<IMailStore> OpenStoreAsync() => _folder.OpenAsync();

    protected override Task<long> CountStoredBodiesAsync() => Task.FromResult(_folder.CountBodies());

    protected override ValueTask DropStoreAsync() => _folder.DeleteAsync();
}

public sealed class SqliteMessageContract : MessageContract
{
    private readonly SqliteTempFolder _folder = new();

    protected override Task<IMailStore> OpenStoreAsync() => _folder.OpenAsync();

    protected override Task<long> CountStoredBodiesAsync() => Task.FromResult(_folder.CountBodies());

    protected override ValueTask DropStoreAsync() => _folder.DeleteAsync();
}

public sealed class SqliteMailboxContract : MailboxContract
{
    private readonly SqliteTempFolder _folder = new();

    protected override Task<IMailStore> OpenStoreAsync() => _folder.OpenAsync();

    protected override Task<long> CountStoredBodiesAsync() => Task.FromResult(_folder.CountBodies());

    protected override ValueTask DropStoreAsync() => _folder.DeleteAsync();
}

public sealed class SqliteListContract : ListContract
{
    private readonly SqliteTempFolder _folder = new();

    protected override Task<IMailStore> OpenStoreAsync() => _folder.OpenAsync();

    protected override Task<long> CountStoredBodiesAsync() => Task.FromResult(_folder.CountBodies());

    protected override ValueTask DropStoreAsync() => _folder.DeleteAsync();
}

/// <summary>A fresh temporary folder for one SQLite store; every open reopens the same data.</summary>
internal sealed class SqliteTempFolder
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "mailroom-contract-test-" + Guid.NewGuid().ToString("N"));

    public async Task<IMailStore> OpenAsync() => await SqliteMailStore.OpenAsync(_path, CancellationToken.None);

    /// <summary>Committed bodies: <c>messages/&lt;xx&gt;/&lt;id&gt;.eml</c>, not deliveries in progress in <c>messages/tmp</c>.</summary>
    /// <summary>Body files outside tmp/, plus bodies kept in the database (small ones, inline).</summary>
    public long CountBodies()
    {
        var messages = Path.Combine(_path, "messages");
        if (!Directory.Exists(messages))
        {
            return 0;
        }

        var temp = Path.Combine(messages, "tmp") + Path.DirectorySeparatorChar;
        var files = Directory.EnumerateFiles(messages, "*.eml", SearchOption.AllDirectories)
            .LongCount(file => !file.StartsWith(temp, StringComparison.Ordinal));
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_path, SqliteMailStore.DatabaseFileName)};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM message_bodies;";
        return files + (long)command.ExecuteScalar()!;
    }

    public ValueTask DeleteAsync()
    {
        if (Directory.Exists(_path))
        {
            Directory.Delete(_path, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}
