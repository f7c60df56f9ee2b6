using Mailroom.Core.Storage;

using Microsoft.Data.Sqlite;

namespace Mailroom.Storage.Sqlite.Tests;

public sealed class StorageFaultsTests
{
    [Theory]
    [InlineData(13, true)] // SQLITE_FULL
    [InlineData(13 | (1 << 8), true)] // an extended code on top of SQLITE_FULL
    [InlineData(10, false)] // SQLITE_IOERR
    [InlineData(5, false)] // SQLITE_BUSY
    public async Task ADatabaseErrorBecomesAStorageException(int code, bool full)
    {
        var original = new SqliteException("boom", code);

        var fault = await Assert.ThrowsAsync<StorageException>(() => StorageFaults.RunAsync("testing", () => throw original));

        Assert.Same(original, fault.InnerException);
        Assert.Equal(full, fault.IsFull);
    }

    [Theory]
    [InlineData("No space left on device : '/data/messages/01/x.eml'", 28, true)]
    [InlineData("disk full", 28, true)]
    [InlineData("No space left on device", 0, true)]
    [InlineData("Input/output error", 5, false)]
    public async Task AnIoErrorBecomesAStorageException(string message, int hresult, bool full)
    {
        var original = new IOException(message, hresult);

        var fault = await Assert.ThrowsAsync<StorageException>(() => StorageFaults.RunAsync("testing", () => throw original));

        Assert.Same(original, fault.InnerException);
        Assert.Equal(full, fault.IsFull);
    }

    [Fact]
    public async Task CancellationAndConflictsPassThroughUnchanged()
    {
        var cancelled = new OperationCanceledException();
        var conflict = new DirectoryConflictException("taken");

        Assert.Same(cancelled, await Assert.ThrowsAsync<OperationCanceledException>(() => StorageFaults.RunAsync("testing", () => throw cancelled)));
        Assert.Same(conflict, await Assert.ThrowsAsync<DirectoryConflictException>(() => StorageFaults.RunAsync("testing", () => throw conflict)));
    }
}
