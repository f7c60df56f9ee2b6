using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;

using Microsoft.Data.Sqlite;

namespace Mailroom.Storage.Sqlite.Tests;

public sealed class BodyLayoutTests : TempStore
{
    private static readonly CancellationToken None = CancellationToken.None;

    private string TempDirectory => Path.Combine(MessagesDirectory, "tmp");

    [Fact]
    public async Task BodiesAreSpreadOverFoldersByTheRandomEndOfTheId()
    {
        var a = await AddUserAsync("a@example.com");

        // Ids made in the same millisecond share their first ten characters; a fan-out on the
        // start of the id puts all of them in one folder.
        var ids = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            ids.Add(await DeliverAsync("Subject: x\r\n\r\n"u8.ToArray(), a));
        }

        foreach (var id in ids)
        {
            Assert.True(File.Exists(Path.Combine(MessagesDirectory, id[^2..], id + ".eml")), $"body of {id} is not in folder {id[^2..]}");
        }

        var folders = Directory.GetDirectories(MessagesDirectory).Select(Path.GetFileName).Where(f => f != "tmp").ToList();
        Assert.True(folders.Count > 10, $"40 bodies landed in only {folders.Count} folder(s)");
        Assert.Empty(Directory.GetFiles(TempDirectory));
    }

    [Fact]
    public async Task ABodyIsWrittenInTmpUntilItsCommit()
    {
        var a = await AddUserAsync("a@example.com");
        var id = MessageIds.New();
        await using var writer = await Store.BeginMessageAsync(Envelope(id, a), None);
        await writer.WriteAsync(new byte[100_000], None);

        Assert.Equal(Path.Combine(TempDirectory, id + ".eml"), Assert.Single(BodyFiles()));

        await writer.CommitAsync(None);

        Assert.Equal(Path.Combine(MessagesDirectory, id[^2..], id + ".eml"), Assert.Single(BodyFiles()));
    }

    [Fact]
    public async Task TheSweepRemovesOldTmpFilesOnlyAndKeepsYoungOnesAndFinalBodies()
    {
        var a = await AddUserAsync("a@example.com");
        var kept = await DeliverAsync("Subject: kept\r\n\r\n"u8.ToArray(), a);
        var keptPath = Path.Combine(MessagesDirectory, kept[^2..], kept + ".eml");
        File.SetLastWriteTimeUtc(keptPath, DateTime.UtcNow.AddDays(-1));
        var oldTmp = WriteFile(Path.Combine(TempDirectory, MessageIds.New() + ".eml"), DateTime.UtcNow.AddHours(-1));
        var youngTmp = WriteFile(Path.Combine(TempDirectory, MessageIds.New() + ".eml"), DateTime.UtcNow.AddMinutes(-5));
        var rowless = MessageIds.New();
        var rowlessFinal = WriteFile(Path.Combine(MessagesDirectory, rowless[^2..], rowless + ".eml"), DateTime.UtcNow.AddDays(-1));

        await ReopenAsync();

        Assert.False(File.Exists(oldTmp));
        Assert.True(File.Exists(youngTmp), "a body another process may still be writing must survive the sweep");
        Assert.True(File.Exists(keptPath));
        Assert.True(File.Exists(rowlessFinal), "the sweep reads tmp/ only");
        Assert.NotNull(await Store.OpenMessageAsync(kept, None));
    }

    [Fact]
    public async Task TheHourlyPurgeSweepsOldTmpFilesTooSoAServerRunningLongAfterACrashDoesNotKeepThem()
    {
        var oldTmp = WriteFile(Path.Combine(TempDirectory, MessageIds.New() + ".eml"), DateTime.UtcNow.AddHours(-1));
        var youngTmp = WriteFile(Path.Combine(TempDirectory, MessageIds.New() + ".eml"), DateTime.UtcNow.AddMinutes(-5));

        Assert.Equal(0, await Store.PurgeTrashAsync(DateTimeOffset.UtcNow.AddDays(-30), None));

        Assert.False(File.Exists(oldTmp));
        Assert.True(File.Exists(youngTmp), "a body another process may still be writing must survive the sweep");
    }

    [Fact]
    public async Task TheHourlySweepLeavesThisProcesssOwnDeliveryAloneHoweverLongItsClientTakes()
    {
        var a = await AddUserAsync("a@example.com");
        var id = MessageIds.New();
        await using var writer = await Store.BeginMessageAsync(Envelope(id, a), None);
        await writer.WriteAsync(new byte[100_000], None);

        // A client that has trickled its message for an hour: the file looks like a crash's leftover.
        var temp = Path.Combine(TempDirectory, id + ".eml");
        File.SetLastWriteTimeUtc(temp, DateTime.UtcNow.AddHours(-1));
        await Store.PurgeTrashAsync(DateTimeOffset.UtcNow.AddDays(-30), None);

        Assert.True(File.Exists(temp));
        await writer.CommitAsync(None);
        Assert.NotNull(await Store.OpenMessageAsync(id, None));
    }

    [Fact]
    public async Task AWriterAbortedBeforeItsCommitLeavesNothing()
    {
        var a = await AddUserAsync("a@example.com");
        var id = MessageIds.New();

        await using (var writer = await Store.BeginMessageAsync(Envelope(id, a), None))
        {
            await writer.WriteAsync(new byte[200_000], None);
        }

        Assert.Empty(BodyFiles());
        Assert.False(Directory.Exists(Path.Combine(MessagesDirectory, id[^2..])));
    }

    [Fact]
    public async Task AWriterWhoseRowFailsAfterTheRenameLeavesNothing()
    {
        var a = await AddUserAsync("a@example.com");
        var id = MessageIds.New();
        var missing = new MailboxRef(a.Id + 1000, "gone@example.com", "INBOX");

        await using (var writer = await Store.BeginMessageAsync(Envelope(id, missing), None))
        {
            await writer.WriteAsync("Subject: x\r\n\r\n"u8.ToArray(), None);

            // The deliveries row refers to no mailbox: the foreign key fails the transaction.
            await Assert.ThrowsAsync<StorageException>(() => writer.CommitAsync(None));
            Assert.True(File.Exists(Path.Combine(MessagesDirectory, id[^2..], id + ".eml")), "the rename precedes the row");
        }

        Assert.Empty(BodyFiles());
        Assert.Empty(await Store.ListMessagesAsync(null, None));
    }

    [Fact]
    public async Task AnIdAlreadyStoredIsRefusedAndItsBodyKept()
    {
        var a = await AddUserAsync("a@example.com");
        var id = await DeliverAsync("Subject: first\r\n\r\n"u8.ToArray(), a);

        await Assert.ThrowsAsync<DirectoryConflictException>(() => Store.BeginMessageAsync(Envelope(id, a), None));

        Assert.Equal("first", Assert.Single(await Store.ListMessagesAsync(null, None)).Subject);
        Assert.Single(BodyFiles());
    }

    [Fact]
    public async Task ABodyStoredUnderTheEarlierLayoutIsStillReadAndRemoved()
    {
        var a = await AddUserAsync("a@example.com");
        var id = MessageIds.New();
        var path = WriteFile(Path.Combine(MessagesDirectory, id[..2], id + ".eml"), DateTime.UtcNow.AddDays(-1));
        InsertRow(id, $"messages/{id[..2]}/{id}.eml", a.Id);

        var stream = await Store.OpenMessageAsync(id, None);
        Assert.NotNull(stream);
        await stream.DisposeAsync();
        await ReopenAsync();
        Assert.True(File.Exists(path));

        Assert.True(await Store.RemoveAccountAsync(a.Address, None));
        Assert.False(File.Exists(path));
    }

    private static MessageEnvelope Envelope(string id, MailboxRef mailbox) =>
        new(id, "s@example.net", [new EnvelopeRecipient(mailbox, mailbox.Address)], DateTimeOffset.UtcNow);

    private static string WriteFile(string path, DateTime lastWriteUtc)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "Subject: by hand\r\n\r\n");
        File.SetLastWriteTimeUtc(path, lastWriteUtc);
        return path;
    }

    private void InsertRow(string id, string bodyPath, long mailboxId)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(DataDirectory, SqliteMailStore.DatabaseFileName)};Pooling=False;Foreign Keys=True");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO messages (id, sender, received_utc, size, subject, body_path)
            VALUES ($id, '', '2024-01-01T00:00:00.0000000Z', 20, 'by hand', $path);
            INSERT INTO deliveries (message_id, mailbox_id, recipient) VALUES ($id, $mailbox, 'a@example.com');
            """;
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$path", bodyPath);
        command.Parameters.AddWithValue("$mailbox", mailboxId);
        command.ExecuteNonQuery();
    }
}
