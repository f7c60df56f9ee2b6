using System.Text;
using Mailroom.Testing;
using Npgsql;

namespace Mailroom.Scaling.Tests;

/// <summary>
/// Storage faults at each stage of a delivery on a real <c>mailroom serve</c> node over a real
/// PostgreSQL database, every fault a real one: PostgreSQL itself raises it (a view or a trigger
/// raising SQLSTATE 58030 io_error, or 53100 disk_full, through the real driver and the store's
/// own mapping), or the node's spool folder is not there. The client hears 451 4.3.0, or 452
/// 4.3.1 for a full disk; no row, chunk or spool file of the message stays; the same session
/// goes on and delivers whole once the fault clears; the node takes new connections.
/// Not here: the begin stage (PostgreSQL's BeginMessageAsync touches neither the database nor
/// the disk) and a full disk under the spool file (no way to fill the node's disk from a test);
/// the SQLite server tests cover both.
/// </summary>
public sealed class StorageFaultTests(PostgresFixture fixture)
{
    private const string IoError = "58030";
    private const string DiskFull = "53100";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private enum Stage
    {
        Recipient,
        Body,
        Commit,
    }

    private sealed record Case(string Name, Stage Stage, bool Large, string Attach, string Detach);

    /// <summary>RCPT reads mailboxes: for a while it is a view whose every row raises.</summary>
    private static readonly Case RecipientLookup = new(
        "RCPT lookup",
        Stage.Recipient,
        false,
        "ALTER TABLE mailboxes RENAME TO mailboxes_real; CREATE VIEW mailboxes AS SELECT * FROM mailboxes_real WHERE test_fault_check();",
        "DROP VIEW mailboxes; ALTER TABLE mailboxes_real RENAME TO mailboxes;");

    /// <summary>The body's only chunk fails to insert, in the commit's batch.</summary>
    private static readonly Case InlineChunk = new(
        "inline body chunk",
        Stage.Body,
        false,
        "CREATE TRIGGER test_fault BEFORE INSERT ON message_chunks FOR EACH ROW EXECUTE FUNCTION test_fault_trigger();",
        "DROP TRIGGER test_fault ON message_chunks;");

    /// <summary>A spooled body's second chunk fails, after the rows and the first chunk went in the same transaction.</summary>
    private static readonly Case LaterChunk = new(
        "spooled body, second chunk",
        Stage.Body,
        true,
        "CREATE TRIGGER test_fault BEFORE INSERT ON message_chunks FOR EACH ROW WHEN (NEW.seq >= 1) EXECUTE FUNCTION test_fault_trigger();",
        "DROP TRIGGER test_fault ON message_chunks;");

    /// <summary>Every statement succeeds; the COMMIT itself fails (a deferred constraint trigger).</summary>
    private static Case AtCommit(bool large) => new(
        large ? "COMMIT, spooled body" : "COMMIT, inline body",
        Stage.Commit,
        large,
        "CREATE CONSTRAINT TRIGGER test_fault AFTER INSERT ON deliveries DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_fault_trigger();",
        "DROP TRIGGER test_fault ON deliveries;");

    [Fact]
    public async Task Database_errors_at_each_stage_answer_451_leave_nothing_and_the_session_delivers_once_they_clear()
    {
        await using var set = await NodeSet.CreateAsync(fixture.Require());
        var node = await set.StartNodeAsync();
        var run = new Run(set, node);
        await run.PrepareAsync();
        foreach (var @case in new[] { RecipientLookup, InlineChunk, LaterChunk, AtCommit(false), AtCommit(true) })
        {
            await run.CaseAsync(@case, IoError, "451 4.3.0");
        }

        await run.SpoolFolderGoneAsync();
        Assert.False(node.HasExited);
    }

    [Fact]
    public async Task A_full_database_at_each_stage_answers_452_4_3_1_leaves_nothing_and_the_session_delivers_once_it_clears()
    {
        await using var set = await NodeSet.CreateAsync(fixture.Require());
        var node = await set.StartNodeAsync();
        var run = new Run(set, node);
        await run.PrepareAsync();
        foreach (var @case in new[] { RecipientLookup, InlineChunk, LaterChunk, AtCommit(false), AtCommit(true) })
        {
            await run.CaseAsync(@case, DiskFull, "452 4.3.1");
        }

        Assert.False(node.HasExited);
    }

    private sealed class Run(NodeSet set, ServerProcess node)
    {
        private readonly List<string> _stored = [];

        private string SpoolFolder => Path.Combine(set.NodeFolder(0), "spool");

        /// <summary>The switch: while test_fault holds a SQLSTATE, whatever calls test_fault_check() raises it.</summary>
        public Task PrepareAsync() => ExecuteAsync("""
            CREATE TABLE test_fault (code text NOT NULL);
            CREATE FUNCTION test_fault_check() RETURNS boolean LANGUAGE plpgsql AS $$
            DECLARE c text;
            BEGIN
                SELECT code INTO c FROM test_fault LIMIT 1;
                IF c IS NOT NULL THEN
                    RAISE EXCEPTION 'injected fault' USING ERRCODE = c;
                END IF;
                RETURN true;
            END $$;
            CREATE FUNCTION test_fault_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM test_fault_check();
                RETURN NEW;
            END $$;
            """);

        public async Task CaseAsync(Case @case, string sqlState, string expected)
        {
            var name = $"{@case.Name} ({sqlState})";
            await using var client = await ConnectAsync();
            await ExecuteAsync($"INSERT INTO test_fault VALUES ('{sqlState}'); {@case.Attach}");
            try
            {
                var body = Body(@case.Large, "faulty " + name);
                await FailAsync(client, @case.Stage, body, expected, name);
                await AssertNothingHalfDeliveredAsync(name);
                Assert.StartsWith("250", await client.CommandAsync("RSET"), StringComparison.Ordinal);
                Assert.StartsWith("250", await client.CommandAsync("NOOP"), StringComparison.Ordinal);
                await FailAsync(client, @case.Stage, body, expected, name);
                await AssertNothingHalfDeliveredAsync(name);
                Assert.StartsWith("250", await client.CommandAsync("RSET"), StringComparison.Ordinal);
            }
            finally
            {
                await ExecuteAsync($"{@case.Detach} DELETE FROM test_fault;");
            }

            await DeliverAsync(client, Body(@case.Large, "recovered " + name));
            Assert.StartsWith("221", await client.CommandAsync("QUIT"), StringComparison.Ordinal);
            await using var next = await ConnectAsync();
            await DeliverAsync(next, Body(@case.Large, "next connection " + name));
            await AssertNothingHalfDeliveredAsync(name);
        }

        /// <summary>The node's spool folder is a plain file for a while: spooling a large body fails (ENOTDIR).</summary>
        public async Task SpoolFolderGoneAsync()
        {
            const string Name = "spool folder gone";
            await using var client = await ConnectAsync();
            Directory.Delete(SpoolFolder);
            await File.WriteAllTextAsync(SpoolFolder, "not a folder", Token);
            try
            {
                var body = Body(large: true, Name);
                await FailAsync(client, Stage.Body, body, "451 4.3.0", Name);
                await AssertNothingHalfDeliveredAsync(Name);
                Assert.StartsWith("250", await client.CommandAsync("RSET"), StringComparison.Ordinal);
                await FailAsync(client, Stage.Body, body, "451 4.3.0", Name);
                await AssertNothingHalfDeliveredAsync(Name);
            }
            finally
            {
                File.Delete(SpoolFolder);
                Directory.CreateDirectory(SpoolFolder);
            }

            await DeliverAsync(client, Body(large: true, "recovered " + Name));
            await AssertNothingHalfDeliveredAsync(Name);
        }

        private async Task<LineClient> ConnectAsync()
        {
            var client = await LineClient.ConnectAsync(node.Endpoint);
            Assert.StartsWith("250", await client.CommandAsync("EHLO client.test"), StringComparison.Ordinal);
            return client;
        }

        private static async Task FailAsync(LineClient client, Stage stage, string body, string expected, string name)
        {
            Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<sender@remote.test>"), StringComparison.Ordinal);
            var rcpt = await client.CommandAsync($"RCPT TO:<{NodeSet.Alice}>");
            if (stage == Stage.Recipient)
            {
                Assert.True(rcpt.StartsWith(expected, StringComparison.Ordinal), $"{name}: RCPT got '{rcpt}', expected {expected}");
                return;
            }

            Assert.StartsWith("250", rcpt, StringComparison.Ordinal);
            Assert.StartsWith("354", await client.CommandAsync("DATA"), StringComparison.Ordinal);
            var end = await client.CommandAsync(body + ".");
            Assert.True(end.StartsWith(expected, StringComparison.Ordinal), $"{name}: the end of DATA got '{end}', expected {expected}");
        }

        private async Task DeliverAsync(LineClient client, string body)
        {
            Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<sender@remote.test>"), StringComparison.Ordinal);
            Assert.StartsWith("250", await client.CommandAsync($"RCPT TO:<{NodeSet.Alice}>"), StringComparison.Ordinal);
            Assert.StartsWith("354", await client.CommandAsync("DATA"), StringComparison.Ordinal);
            var id = NodeSet.QueueId(await client.CommandAsync(body + "."));
            _stored.Add(id);

            // Stored whole: the chunks, in order, are the trace headers and then exactly what was sent.
            await using var connection = await OpenAsync();
            await using var read = new NpgsqlCommand("SELECT string_agg(data, ''::bytea ORDER BY seq) FROM message_chunks WHERE message_id = @id;", connection);
            read.Parameters.AddWithValue("id", id);
            var stored = Encoding.ASCII.GetString((byte[])(await read.ExecuteScalarAsync(Token))!);
            Assert.StartsWith("Return-Path:", stored, StringComparison.Ordinal);
            Assert.EndsWith("\r\n" + body, stored, StringComparison.Ordinal);
        }

        /// <summary>Straight from the database and the node's folder: only the messages acknowledged, each with its delivery, and no spool file.</summary>
        private async Task AssertNothingHalfDeliveredAsync(string name)
        {
            await using var connection = await OpenAsync();
            var ids = new List<string>();
            await using (var messages = new NpgsqlCommand("SELECT id FROM messages;", connection))
            await using (var reader = await messages.ExecuteReaderAsync(Token))
            {
                while (await reader.ReadAsync(Token))
                {
                    ids.Add(reader.GetString(0));
                }
            }

            Assert.True(_stored.Order(StringComparer.Ordinal).SequenceEqual(ids.Order(StringComparer.Ordinal)), $"{name}: stored {string.Join(", ", ids)}, acknowledged {string.Join(", ", _stored)}");
            await using var deliveries = new NpgsqlCommand("SELECT count(*) FROM deliveries;", connection);
            Assert.Equal(_stored.Count, (long)(await deliveries.ExecuteScalarAsync(Token))!);
            await using var chunks = new NpgsqlCommand("SELECT count(DISTINCT message_id) FROM message_chunks;", connection);
            Assert.Equal(_stored.Count, (long)(await chunks.ExecuteScalarAsync(Token))!);
            if (Directory.Exists(SpoolFolder))
            {
                Assert.Empty(Directory.GetFiles(SpoolFolder));
            }
        }

        private async Task<NpgsqlConnection> OpenAsync()
        {
            var connection = new NpgsqlConnection(set.ConnectionString);
            await connection.OpenAsync(Token);
            return connection;
        }

        private async Task ExecuteAsync(string sql)
        {
            await using var connection = await OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(Token);
        }

        /// <summary>About 2 KB (one chunk, held in memory), or 2.5 MB (spooled to the node's disk, three chunks).</summary>
        private static string Body(bool large, string subject)
        {
            var text = new StringBuilder($"From: sender@remote.test\r\nTo: {NodeSet.Alice}\r\nSubject: {subject}\r\n\r\n");
            for (var line = 0; text.Length < (large ? 2_500_000 : 2_000); line++)
            {
                text.Append(line.ToString("D7", System.Globalization.CultureInfo.InvariantCulture)).Append(' ').Append('y', 90).Append("\r\n");
            }

            return text.ToString();
        }
    }
}
