using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;

namespace Mailroom.Storage.Sqlite.Tests;

/// <summary>A disk that fills up mid-message: the delivery fails as "full", and its file does not stay to keep the disk full.</summary>
public sealed class FullDiskTests : TempStore
{
    [Fact]
    public async Task A_write_that_hits_a_full_disk_is_reported_as_full_and_the_aborted_file_is_removed()
    {
        Assert.SkipUnless(File.Exists("/dev/full"), "needs /dev/full (Linux)");
        var mailbox = await AddUserAsync("a@example.com");

        // The body file exists as usual, but every write to it lands on /dev/full (ENOSPC).
        Store.OpenBodyFile = (path, options) =>
        {
            File.WriteAllBytes(path, []);
            return new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, options.BufferSize, useAsync: true);
        };
        var envelope = new MessageEnvelope(MessageIds.New(), "s@example.net", [new EnvelopeRecipient(mailbox, "a@example.com")], DateTimeOffset.UtcNow);
        var writer = await Store.BeginMessageAsync(envelope, CancellationToken.None);

        // Small writes sit in the buffer; the first that must reach the disk fails.
        await writer.WriteAsync(new byte[10], CancellationToken.None);
        var tmp = Assert.Single(Directory.GetFiles(Path.Combine(MessagesDirectory, "tmp")));
        var ex = await Assert.ThrowsAsync<StorageException>(async () => await writer.WriteAsync(new byte[256 * 1024], CancellationToken.None));
        Assert.True(ex.IsFull, ex.ToString());

        // Closing flushes the buffer again and fails again; disposing must still remove the file.
        await writer.DisposeAsync();
        Assert.False(File.Exists(tmp));
        Assert.Empty(await Store.ListMessagesAsync(null, CancellationToken.None));
    }
}
