using System.Net;
using System.Reflection;
using System.Text;
using Mailroom.Core.Accounts;
using Mailroom.Core.Storage;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Dns;
using Mailroom.Server.Session;
using Mailroom.Server.Tests.Fakes;
using Mailroom.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mailroom.Server.Tests.Integration;

/// <summary>
/// Storage faults at each stage of a delivery (begin, RCPT, body write, commit), through the real
/// server over TCP onto a real SQLite store: the client hears 451 4.3.0, or 452 4.3.1 when the
/// disk is full; nothing of the message stays in the database or on disk; the same session goes
/// on, and delivers whole once the fault clears; and the server takes new connections.
/// Real engine faults where SQLite and the file system can be made to fail on demand (a trigger
/// that aborts an insert, a table gone at RCPT, the temp folder gone, a body file on /dev/full);
/// a store decorator where they cannot (see <see cref="FaultyStore"/>), which throws what the
/// store's own mapping (StorageFaults.Translate) makes of the engine's exception.
/// </summary>
public sealed class StorageFaultTests : IAsyncLifetime
{
    private const string Alice = "alice@example.test";

    private readonly string _folder = Directory.CreateTempSubdirectory("mailroom-faults-").FullName;
    private SqliteMailStore _store = null!;
    private FaultyStore _faulty = null!;
    private SmtpServer _server = null!;

    public enum Stage
    {
        Begin,
        Recipient,
        Body,
        Commit,
    }

    public async ValueTask InitializeAsync()
    {
        _store = await SqliteMailStore.OpenAsync(_folder, CancellationToken.None);
        await _store.AddDomainAsync("example.test", CancellationToken.None);
        await _store.AddAccountAsync(Alice, new PasswordHasher(iterations: 1000).Hash("secret"), CancellationToken.None);
        _faulty = FaultyStore.Over(_store);
        var options = new SmtpServerOptions { HostName = "mx.example.test", ReverseDnsLookup = false };
        _server = new SmtpServer(new SmtpServices(options, _faulty.Store, NullLogger.Instance, NoReverseDns.Instance));
        _server.Start([new SmtpListener(new IPEndPoint(IPAddress.Loopback, 0), ListenerRole.Smtp)]);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await _store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    // ---- The matrix: stage × (I/O or database error → 451 4.3.0, full → 452 4.3.1) × body size.

    [Fact]
    public Task Begin_io_error_decorator() => RunAsync(Stage.Begin, large: false, _faulty.FailAt(nameof(IMessageStore.BeginMessageAsync), IoError), ReplyCatalogue.StorageFailure);

    [Fact]
    public Task Begin_full_disk_decorator() => RunAsync(Stage.Begin, large: false, _faulty.FailAt(nameof(IMessageStore.BeginMessageAsync), DiskFullError), ReplyCatalogue.StorageFull);

    [Fact]
    public Task Recipient_database_error_real_table_gone() => RunAsync(Stage.Recipient, large: false, TableRenamed("mailboxes"), ReplyCatalogue.StorageFailure);

    [Fact]
    public Task Recipient_full_database_decorator() => RunAsync(Stage.Recipient, large: false, _faulty.FailAt(nameof(IDirectoryStore.FindMailboxAsync), DatabaseFull), ReplyCatalogue.StorageFull);

    [Fact]
    public Task Inline_body_database_error_real_trigger() => RunAsync(Stage.Body, large: false, Trigger("message_bodies"), ReplyCatalogue.StorageFailure);

    /// <summary>
    /// ENOSPC from the body write of a small message. SQLite only buffers an inline body in memory
    /// there (its full database shows at commit: <see cref="Commit_full_database_decorator_inline_body"/>),
    /// so this case stands for a store whose writes hit the disk as they come.
    /// </summary>
    [Fact]
    public Task Body_write_full_disk_decorator_inline_body() => RunAsync(Stage.Body, large: false, _faulty.FailWrites(DiskFullError), ReplyCatalogue.StorageFull);

    [Fact]
    public Task File_body_io_error_real_temp_folder_gone() => RunAsync(Stage.Body, large: true, TempFolderReplacedByFile(), ReplyCatalogue.StorageFailure);

    [Fact]
    public Task File_body_full_disk_real_enospc()
    {
        Assert.SkipUnless(File.Exists("/dev/full"), "needs /dev/full (Linux)");
        return RunAsync(Stage.Body, large: true, BodyFilesOnDevFull(), ReplyCatalogue.StorageFull);
    }

    [Fact]
    public Task Commit_database_error_real_trigger_inline_body() => RunAsync(Stage.Commit, large: false, Trigger("deliveries"), ReplyCatalogue.StorageFailure);

    [Fact]
    public Task Commit_database_error_real_trigger_file_body() => RunAsync(Stage.Commit, large: true, Trigger("deliveries"), ReplyCatalogue.StorageFailure);

    /// <summary>SQLITE_FULL at commit: where a full database really shows for an inline body.</summary>
    [Fact]
    public Task Commit_full_database_decorator_inline_body() => RunAsync(Stage.Commit, large: false, _faulty.FailCommits(DatabaseFull), ReplyCatalogue.StorageFull);

    [Fact]
    public Task Commit_full_database_decorator_file_body() => RunAsync(Stage.Commit, large: true, _faulty.FailCommits(DatabaseFull), ReplyCatalogue.StorageFull);

    /// <summary>
    /// One case: the fault is on; a transaction fails at <paramref name="stage"/> with
    /// <paramref name="expected"/>, twice in the same session (RSET and NOOP between), leaving
    /// nothing; the fault clears; the same session delivers a message that reads back whole, and
    /// so does a new connection.
    /// </summary>
    private async Task RunAsync(Stage stage, bool large, Fault fault, ReplyTemplate expected)
    {
        var body = Body(large, "faulty");
        await using var client = await ConnectAsync();
        await fault.Inject();
        try
        {
            await FailAsync(client, stage, body, expected);
            await AssertNothingHalfDeliveredAsync([]);

            Assert.Equal(250, (await client.CommandAsync("RSET")).Code);
            Assert.Equal(250, (await client.CommandAsync("NOOP")).Code);
            await FailAsync(client, stage, body, expected);
            await AssertNothingHalfDeliveredAsync([]);
            Assert.Equal(250, (await client.CommandAsync("RSET")).Code);
        }
        finally
        {
            await fault.Clear();
        }

        var recovered = Body(large, "recovered");
        var id = await DeliverAsync(client, recovered);
        await AssertStoredWholeAsync(id, recovered);
        Assert.Equal(221, (await client.CommandAsync("QUIT")).Code);

        await using var next = await ConnectAsync();
        var another = Body(large, "next connection");
        var second = await DeliverAsync(next, another);
        await AssertStoredWholeAsync(second, another);
        await AssertNothingHalfDeliveredAsync([id, second]);
    }

    private async Task<RawClient> ConnectAsync()
    {
        var client = await RawClient.ConnectAsync(_server.Endpoints[0]);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.Equal(250, (await client.CommandAsync("EHLO client.example.net")).Code);
        return client;
    }

    private static async Task FailAsync(RawClient client, Stage stage, string body, ReplyTemplate expected)
    {
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<sender@example.net>")).Code);
        var rcpt = await client.CommandAsync($"RCPT TO:<{Alice}>");
        if (stage == Stage.Recipient)
        {
            AssertReply(expected, rcpt);
            return;
        }

        Assert.Equal(250, rcpt.Code);
        var data = await client.CommandAsync("DATA");
        if (stage == Stage.Begin)
        {
            AssertReply(expected, data);
            return;
        }

        Assert.Equal(354, data.Code);
        await client.SendAsync(body + ".\r\n");
        AssertReply(expected, (await client.ReadReplyAsync())!);
    }

    private static async Task<string> DeliverAsync(RawClient client, string body)
    {
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<sender@example.net>")).Code);
        Assert.Equal(250, (await client.CommandAsync($"RCPT TO:<{Alice}>")).Code);
        Assert.Equal(354, (await client.CommandAsync("DATA")).Code);
        await client.SendAsync(body + ".\r\n");
        var accepted = (await client.ReadReplyAsync())!;
        Assert.True(accepted.Code == 250, accepted.ToString());
        return accepted.Lines[0][(accepted.Lines[0].LastIndexOf(' ') + 1)..];
    }

    private static void AssertReply(ReplyTemplate expected, SmtpReply actual)
    {
        Assert.True(expected.Code == actual.Code && Equals(expected.Enhanced, actual.Enhanced), $"expected {expected.Code} {expected.Enhanced}, got {actual}");
    }

    /// <summary>A message of about 2 KB (stored inline) or 300 KB (over the 128 KiB inline limit: a body file).</summary>
    private static string Body(bool large, string subject)
    {
        var text = new StringBuilder($"From: sender@example.net\r\nTo: {Alice}\r\nSubject: {subject}\r\n\r\n");
        for (var line = 0; text.Length < (large ? 300_000 : 2_000); line++)
        {
            text.Append(Number(line)).Append(' ').Append('x', 70).Append("\r\n");
        }

        return text.ToString();

        static string Number(int line) => line.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task AssertStoredWholeAsync(string id, string body)
    {
        await using var stored = await _store.OpenMessageAsync(id, CancellationToken.None);
        Assert.NotNull(stored);
        using var reader = new StreamReader(stored, Encoding.UTF8);
        var text = await reader.ReadToEndAsync();
        // The trace headers (Received:, Return-Path:) and then exactly what was sent.
        Assert.EndsWith("\r\n" + body, text, StringComparison.Ordinal);
        Assert.StartsWith("Return-Path:", text, StringComparison.Ordinal);
        Assert.Equal(1, CountOf(text, "Subject:"));
    }

    private static int CountOf(string text, string what) => (text.Length - text.Replace(what, string.Empty, StringComparison.Ordinal).Length) / what.Length;

    /// <summary>
    /// Read straight from the database file and the folder: exactly the <paramref name="ids"/> are
    /// stored, every delivery and inline body belongs to one of them, every body file to a row, and
    /// no temporary body file is left.
    /// </summary>
    private async Task AssertNothingHalfDeliveredAsync(IReadOnlyCollection<string> ids)
    {
        await using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(_folder, SqliteMailStore.DatabaseFileName), Pooling = false }.ToString());
        await db.OpenAsync();
        var rows = await QueryAsync(db, "SELECT id, body_path FROM messages;");
        Assert.Equal(ids.Order(StringComparer.Ordinal), rows.Select(r => r[0]).Order(StringComparer.Ordinal));
        Assert.Empty(await QueryAsync(db, "SELECT message_id FROM deliveries WHERE message_id NOT IN (SELECT id FROM messages);"));
        Assert.Empty(await QueryAsync(db, "SELECT message_id FROM message_bodies WHERE message_id NOT IN (SELECT id FROM messages);"));
        Assert.Equal(ids.Count, (await QueryAsync(db, "SELECT message_id FROM deliveries;")).Count);

        var messages = Path.Combine(_folder, "messages");
        var files = Directory.Exists(messages)
            ? Directory.GetFiles(messages, "*", SearchOption.AllDirectories)
                .Where(f => f != Path.Combine(messages, "tmp")) // the fault itself, while messages/tmp is a file
                .Select(f => Path.GetRelativePath(_folder, f).Replace(Path.DirectorySeparatorChar, '/')).Order(StringComparer.Ordinal).ToArray()
            : [];
        Assert.Equal(rows.Select(r => r[1]).Where(p => p.Length > 0).Order(StringComparer.Ordinal), files);
    }

    private static async Task<List<string[]>> QueryAsync(SqliteConnection db, string sql)
    {
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string[]>();
        while (await reader.ReadAsync())
        {
            rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetValue(i).ToString()!)]);
        }

        return rows;
    }

    // ---- Real engine faults.

    private Task ExecuteAsync(string sql) => SqliteBeside.ExecuteAsync(_folder, sql);

    /// <summary>Every insert into <paramref name="table"/> fails in SQLite itself (SQLITE_CONSTRAINT_TRIGGER), inside the store's transaction.</summary>
    private Fault Trigger(string table) => new(
        () => ExecuteAsync($"CREATE TRIGGER injected_fault BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'injected fault'); END;"),
        () => ExecuteAsync("DROP TRIGGER injected_fault;"));

    /// <summary>The table RCPT reads is gone for a while (SQLITE_ERROR "no such table").</summary>
    private Fault TableRenamed(string table) => new(
        () => ExecuteAsync($"ALTER TABLE {table} RENAME TO {table}_away;"),
        () => ExecuteAsync($"ALTER TABLE {table}_away RENAME TO {table};"));

    /// <summary>
    /// messages/tmp/ is a plain file for a while, so creating a body file there fails with a real
    /// IOException (ENOTDIR). Root ignores permissions, so a read-only folder would not do.
    /// </summary>
    private Fault TempFolderReplacedByFile()
    {
        var tmp = Path.Combine(_folder, "messages", "tmp");
        return new(
            () =>
            {
                if (Directory.Exists(tmp))
                {
                    Directory.Delete(tmp);
                }

                File.WriteAllText(tmp, "not a folder");
                return Task.CompletedTask;
            },
            () =>
            {
                File.Delete(tmp);
                Directory.CreateDirectory(tmp);
                return Task.CompletedTask;
            });
    }

    /// <summary>
    /// Body files are created where they belong, but their bytes go to /dev/full: the kernel's
    /// ENOSPC, through the store's own mapping. Uses the store's internal test seam (OpenBodyFile).
    /// </summary>
    private Fault BodyFilesOnDevFull()
    {
        var original = _store.OpenBodyFile;
        Func<string, FileStreamOptions, FileStream> full = (path, options) =>
        {
            using (new FileStream(path, options))
            {
            }

            return new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, options.BufferSize, useAsync: true);
        };
        return new(
            () =>
            {
                _store.OpenBodyFile = full;
                return Task.CompletedTask;
            },
            () =>
            {
                _store.OpenBodyFile = original;
                return Task.CompletedTask;
            });
    }

    // ---- What the decorator throws: the engine's exception through the store's own mapping.

    private static StorageException IoError(string operation) => Translate(new IOException("Input/output error", 5), operation);

    private static StorageException DiskFullError(string operation) => Translate(new IOException("No space left on device", 28), operation);

    private static StorageException DatabaseFull(string operation) => Translate(new SqliteException("SQLite Error 13: 'database or disk is full'.", 13), operation);

    /// <summary>StorageFaults.Translate, the one place the SQLite store turns engine failures into <see cref="StorageException"/>.</summary>
    private static StorageException Translate(Exception engine, string operation) => StorageFaults.Translate(engine, operation);

    public sealed record Fault(Func<Task> Inject, Func<Task> Clear);

    /// <summary>
    /// The real store behind a proxy that, while a fault is set, throws it from one method or from
    /// the writers it hands out; everything else goes straight to the store. For the faults SQLite
    /// cannot be made to raise on demand: a failure in BeginMessageAsync (it touches no engine), a
    /// full database at RCPT (a read) or at commit, a full disk under an inline body.
    /// </summary>
    public class FaultyStore : DispatchProxy
    {
        private IMailStore _inner = null!;
        private string? _method;
        private Func<string, StorageException>? _methodFault;
        private Func<string, StorageException>? _writeFault;
        private Func<string, StorageException>? _commitFault;

        public IMailStore Store => (IMailStore)(object)this;

        public static FaultyStore Over(IMailStore inner)
        {
            var proxy = (FaultyStore)(object)Create<IMailStore, FaultyStore>();
            proxy._inner = inner;
            return proxy;
        }

        public Fault FailAt(string method, Func<string, StorageException> fault) => new(
            () => Set(() => (_method, _methodFault) = (method, fault)),
            () => Set(() => (_method, _methodFault) = (null, null)));

        public Fault FailWrites(Func<string, StorageException> fault) => new(
            () => Set(() => _writeFault = fault),
            () => Set(() => _writeFault = null));

        public Fault FailCommits(Func<string, StorageException> fault) => new(
            () => Set(() => _commitFault = fault),
            () => Set(() => _commitFault = null));

        private static Task Set(Action change)
        {
            change();
            return Task.CompletedTask;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == _method && _methodFault is { } fault)
            {
                throw fault(targetMethod.Name);
            }

            object? result;
            try
            {
                result = targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException);
                throw;
            }

            return result is Task<IMessageWriter> writer ? WrapAsync(writer) : result;
        }

        private async Task<IMessageWriter> WrapAsync(Task<IMessageWriter> writer) => new FaultyWriter(await writer, this);

        private sealed class FaultyWriter(IMessageWriter inner, FaultyStore store) : IMessageWriter
        {
            public string MessageId => inner.MessageId;

            public long Length => inner.Length;

            public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
                store._writeFault is { } fault ? ValueTask.FromException(fault("writing the message body")) : inner.WriteAsync(data, cancellationToken);

            public Task CommitAsync(CancellationToken cancellationToken) =>
                store._commitFault is { } fault ? Task.FromException(fault("recording messages")) : inner.CommitAsync(cancellationToken);

            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }
    }
}
