using Mailroom.Core.Storage;
using static Mailroom.Storage.Postgres.Tests.PostgresStoreTestKit;

namespace Mailroom.Storage.Postgres.Tests;

/// <summary>Bodies as rows of message_chunks: whole, spooled while in flight, and damage detected.</summary>
public sealed class PostgresBodyTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Large = 3_500_000;

    private readonly PostgresTestDatabase _database = new(fixture);
    private PostgresMailStore _store = null!;

    public async ValueTask InitializeAsync() => _store = await _database.OpenStoreAsync();

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        await _database.DropAsync();
    }

    [Fact]
    public async Task A_large_message_spools_while_in_flight_and_comes_back_byte_for_byte_from_several_chunks()
    {
        var alice = await AddUserAsync(_store, "alice@example.com");
        var body = Body(Large);
        var envelope = Envelope(alice);
        await using (var writer = await _store.BeginMessageAsync(envelope, Token))
        {
            await WriteInPiecesAsync(writer, body);
            Assert.Single(SpoolFiles());
            await writer.CommitAsync(Token);
        }

        Assert.Empty(SpoolFiles());
        Assert.Equal(body, await ReadAllAsync(_store, envelope.MessageId));
        Assert.Equal(4L, await _database.ScalarAsync<long>($"SELECT count(*) FROM message_chunks WHERE message_id = '{envelope.MessageId}';"));
        Assert.Equal((long)PostgresMailStore.ChunkSize, await _database.ScalarAsync<long>("SELECT max(length(data))::bigint FROM message_chunks;"));
        var summary = Assert.Single(await _store.ListMessagesAsync("alice@example.com", Token));
        Assert.Equal(Large, summary.Size);
        Assert.Equal("big", summary.Subject);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(Large)]
    public async Task An_aborted_delivery_leaves_no_rows_and_no_spool_file(int size)
    {
        var alice = await AddUserAsync(_store, "alice@example.com");
        var envelope = Envelope(alice);
        await using (var writer = await _store.BeginMessageAsync(envelope, Token))
        {
            await WriteInPiecesAsync(writer, Body(size));
        }

        Assert.Empty(SpoolFiles());
        Assert.Equal(0L, await _database.ScalarAsync<long>(
            "SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM message_chunks) + (SELECT count(*) FROM deliveries);"));
        Assert.Null(await _store.OpenMessageAsync(envelope.MessageId, Token));

        // The id is free again: the abort released it.
        await using var retry = await _store.BeginMessageAsync(envelope, Token);
    }

    [Fact]
    public async Task A_missing_middle_chunk_fails_the_read_instead_of_ending_the_message_early()
    {
        var alice = await AddUserAsync(_store, "alice@example.com");
        var id = await DeliverAsync(_store, Body(Large), alice);
        await _database.ScalarAsync<int>($"DELETE FROM message_chunks WHERE message_id = '{id}' AND seq = 1; SELECT 1;");

        var damaged = await Assert.ThrowsAsync<StorageException>(() => ReadAllAsync(_store, id));

        Assert.Contains(id, damaged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_first_chunk_fails_the_first_read_instead_of_returning_the_second()
    {
        var alice = await AddUserAsync(_store, "alice@example.com");
        var id = await DeliverAsync(_store, Body(Large), alice);
        await _database.ScalarAsync<int>($"DELETE FROM message_chunks WHERE message_id = '{id}' AND seq = 0; SELECT 1;");

        await using var stream = await _store.OpenMessageAsync(id, Token);
        Assert.NotNull(stream);
        await Assert.ThrowsAsync<StorageException>(() => stream.ReadAsync(new byte[4096], Token).AsTask());
    }

    [Fact]
    public async Task An_empty_message_reads_back_empty()
    {
        var alice = await AddUserAsync(_store, "alice@example.com");
        var id = await DeliverAsync(_store, [], alice);

        Assert.Empty(await ReadAllAsync(_store, id));
        var summary = Assert.Single(await _store.ListMessagesAsync("alice@example.com", Token));
        Assert.Equal(0, summary.Size);
    }

    private string[] SpoolFiles() =>
        Directory.Exists(_store.SpoolDirectory) ? Directory.GetFiles(_store.SpoolDirectory, "*.spool") : [];
    [Fact]
    public async Task Opening_the_store_clears_spool_files_no_delivery_holds_and_leaves_one_in_use()
    {
        var alice = await AddUserAsync(_store, "alice@example.com");
        var envelope = Envelope(alice);
        await using var inFlight = await _store.BeginMessageAsync(envelope, Token);
        await WriteInPiecesAsync(inFlight, Body(Large));
        var held = Assert.Single(SpoolFiles());
        var leftOver = Path.Combine(_store.SpoolDirectory, "01LEFTBYACRASH-0.spool");
        await File.WriteAllTextAsync(leftOver, "a delivery's body, its node killed a second ago", Token);

        // As an admin command opening the store beside the running server, or the node restarting.
        await (await _database.OpenStoreAsync()).DisposeAsync();

        Assert.False(File.Exists(leftOver));
        Assert.Equal(held, Assert.Single(SpoolFiles()));
        await inFlight.CommitAsync(Token);
        Assert.Equal(Large, (await ReadAllAsync(_store, envelope.MessageId)).Length);
    }
}
