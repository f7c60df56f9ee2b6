using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;

using Microsoft.Data.Sqlite;

namespace Mailroom.Storage.Sqlite.Tests;

/// <summary>
/// A SIGKILL test cannot catch a missing fsync (the page cache outlives the process), so the
/// order of the durable steps is checked through the store's commit recorder: file data, rename,
/// directories, row, and only then does CommitAsync return (RFC 5321 6.1).
/// </summary>
public sealed class CommitOrderTests : TempStore
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task TheFirstCommitIntoAFolderSyncsFileRenameFoldersThenRowThenReturns()
    {
        var a = await AddUserAsync("a@example.com");
        var id = MessageIds.New()[..24] + "ZZ";
        var recorder = new Recorder(this, id);
        Store.CommitRecorder = recorder;

        await DeliverAsync(id, a, recorder);

        var folder = Path.Combine(MessagesDirectory, "ZZ");
        Assert.Equal(
            [
                $"BodySynced {TempPath(id)} tmp:yes final:no row:no",
                $"BodyRenamed {FinalPath(id)} tmp:no final:yes row:no",
                $"DirectorySynced {folder} tmp:no final:yes row:no",
                $"DirectorySynced {MessagesDirectory} tmp:no final:yes row:no",
                $"DirectorySynced {Path.Combine(MessagesDirectory, "tmp")} tmp:no final:yes row:no",
                $"RowCommitted {id} tmp:no final:yes row:yes",
                "returned",
            ],
            recorder.Steps);
    }

    [Fact]
    public async Task ALaterCommitIntoTheSameFolderSyncsOnlyThatFolderAndTmp()
    {
        var a = await AddUserAsync("a@example.com");
        await DeliverAsync(MessageIds.New()[..24] + "ZZ", a, recorder: null);
        var id = MessageIds.New()[..24] + "ZZ";
        var recorder = new Recorder(this, id);
        Store.CommitRecorder = recorder;

        await DeliverAsync(id, a, recorder);

        Assert.Equal(
            [
                "BodySynced", "BodyRenamed",
                $"DirectorySynced {Path.Combine(MessagesDirectory, "ZZ")}",
                $"DirectorySynced {Path.Combine(MessagesDirectory, "tmp")}",
                "RowCommitted", "returned",
            ],
            recorder.Steps.Select(s => s.StartsWith("DirectorySynced", StringComparison.Ordinal) ? s[..s.IndexOf(" tmp:", StringComparison.Ordinal)] : s.Split(' ')[0]));
    }

    [Fact]
    public async Task NoRowIsCommittedWhenTheBodyCannotBeMoved()
    {
        var a = await AddUserAsync("a@example.com");
        var id = MessageIds.New();
        var recorder = new Recorder(this, id);
        Store.CommitRecorder = recorder;
        await using var writer = await Store.BeginMessageAsync(Envelope(id, a), None);
        await writer.WriteAsync("Subject: x\r\n\r\n"u8.ToArray(), None);

        // Another body already holds the final name (say, restored from a backup): the move must
        // not replace it, and the commit must stop before the row.
        Directory.CreateDirectory(Path.GetDirectoryName(FinalPath(id))!);
        await File.WriteAllTextAsync(FinalPath(id), "the other body");

        await Assert.ThrowsAsync<StorageException>(() => writer.CommitAsync(None));
        await writer.DisposeAsync();

        Assert.Equal(["BodySynced"], recorder.Steps.Select(s => s.Split(' ')[0]));
        Assert.Equal("the other body", await File.ReadAllTextAsync(FinalPath(id)));
        Assert.False(File.Exists(TempPath(id)));
        Assert.Empty(await Store.ListMessagesAsync(null, None));
    }

    private async Task DeliverAsync(string id, MailboxRef mailbox, Recorder? recorder)
    {
        await using var writer = await Store.BeginMessageAsync(Envelope(id, mailbox), None);
        await writer.WriteAsync("Subject: order\r\n\r\nbody\r\n"u8.ToArray(), None);
        await writer.CommitAsync(None);
        recorder?.Steps.Add("returned");
    }

    private static MessageEnvelope Envelope(string id, MailboxRef mailbox) =>
        new(id, "s@example.net", [new EnvelopeRecipient(mailbox, mailbox.Address)], DateTimeOffset.UtcNow);

    private string TempPath(string id) => Path.Combine(MessagesDirectory, "tmp", id + ".eml");

    private string FinalPath(string id) => Path.Combine(MessagesDirectory, id[^2..], id + ".eml");

    /// <summary>Writes down each step with what is visible on disk and in the database right then.</summary>
    private sealed class Recorder(CommitOrderTests test, string id) : ICommitRecorder
    {
        public List<string> Steps { get; } = [];

        public void Record(CommitStep step, string path)
        {
            Assert.DoesNotContain("returned", Steps);
            Steps.Add($"{step} {path} tmp:{YesNo(File.Exists(test.TempPath(id)))} final:{YesNo(File.Exists(test.FinalPath(id)))} row:{YesNo(RowExists())}");
        }

        private static string YesNo(bool value) => value ? "yes" : "no";

        // A connection of its own: in WAL mode a reader sees exactly the committed rows.
        private bool RowExists()
        {
            using var connection = new SqliteConnection($"Data Source={Path.Combine(test.DataDirectory, SqliteMailStore.DatabaseFileName)};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM messages WHERE id = $id;";
            command.Parameters.AddWithValue("$id", id);
            return (long)command.ExecuteScalar()! > 0;
        }
    }
}
