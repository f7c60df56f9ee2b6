using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using Mailroom.Core.Accounts;
using Mailroom.Core.Audit;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Dns;
using Mailroom.Server.Session;
using Mailroom.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Mailroom.Server.Tests.Integration;

/// <summary>
/// The real file audit log failing under the real server, with each <c>Audit:OnFailure</c> policy
/// (docs/AUDIT.md, "Cost and failure"). The fault is real: the log rotates to a new file at every
/// batch (MaxFileSize 1 byte), and for a while its folder is a plain file, so creating that file
/// fails in the kernel (ENOTDIR) exactly as a full or broken disk would fail it. Then the folder
/// comes back, the log's own retry finds it, and the chain still verifies.
/// </summary>
public sealed class AuditFaultTests : IAsyncLifetime
{
    private const string Alice = "alice@example.test";

    private readonly string _folder = Directory.CreateTempSubdirectory("mailroom-audit-faults-").FullName;
    private readonly byte[] _chainKey = RandomNumberGenerator.GetBytes(32);
    private readonly RecordingLogger _logger = new();
    private SqliteMailStore _store = null!;
    private FileAuditLog _audit = null!;
    private SmtpServer _server = null!;

    private string AuditFolder => Path.Combine(_folder, "audit");

    public async ValueTask InitializeAsync()
    {
        _store = await SqliteMailStore.OpenAsync(_folder, CancellationToken.None);
        await _store.AddDomainAsync("example.test", CancellationToken.None);
        await _store.AddAccountAsync(Alice, new PasswordHasher(iterations: 1000).Hash("secret"), CancellationToken.None);
        _audit = await FileAuditLog.OpenAsync(new AuditLogOptions
        {
            Folder = AuditFolder,
            Node = "node-faults",
            ChainKey = _chainKey,
            MaxFileSize = 1,

            // Entries nobody waits for stay queued until a message's entry: the first write after
            // the fault is injected is that entry's, not a timer's.
            FlushInterval = TimeSpan.FromMinutes(10),
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        await _audit.DisposeAsync();
        await _store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    private void Start(AuditFailurePolicy policy)
    {
        var options = new SmtpServerOptions { HostName = "mx.example.test", ReverseDnsLookup = false, AuditOnFailure = policy };
        _server = new SmtpServer(new SmtpServices(options, _store, _logger, NoReverseDns.Instance, audit: _audit));
        _server.Start([new SmtpListener(new IPEndPoint(IPAddress.Loopback, 0), ListenerRole.Smtp)]);
    }

    [Fact]
    public async Task Refuse_answers_451_for_the_message_whose_entry_fails_keeps_it_refuses_MAIL_until_the_log_recovers_and_the_chain_verifies()
    {
        Start(AuditFailurePolicy.Refuse);
        await using var client = await ConnectAsync();
        var before = await DeliverAsync(client, "before the fault");

        BreakFolder();
        try
        {
            // The entry for this message is the first write to fail: 451 instead of 250. The design
            // keeps the message (the commit came first) and the entry stays queued for later.
            AssertReply(ReplyCatalogue.AuditUnavailable, await SendAsync(client, "during the fault"));
            var kept = Assert.Single(await _store.ListMessagesAsync(Alice, CancellationToken.None), m => m.Subject == "during the fault");
            Assert.Contains(_logger.Lines, l => l.Contains(kept.MessageId, StringComparison.Ordinal) && l.Contains("could not be written", StringComparison.Ordinal));
            Assert.False(_audit.IsWritable);

            // The same session goes on, but no new transaction starts unaudited.
            Assert.Equal(250, (await client.CommandAsync("RSET")).Code);
            Assert.Equal(250, (await client.CommandAsync("NOOP")).Code);
            AssertReply(ReplyCatalogue.AuditUnavailable, await client.CommandAsync("MAIL FROM:<sender@example.net>"));
            Assert.Equal(2, (await _store.ListMessagesAsync(Alice, CancellationToken.None)).Count);
        }
        finally
        {
            RestoreFolder();
        }

        await WaitUntilWritableAsync();
        var after = await DeliverAsync(client, "after the fault");
        Assert.Equal(221, (await client.CommandAsync("QUIT")).Code);
        await using (var next = await ConnectAsync())
        {
            await DeliverAsync(next, "next connection");
        }

        var entries = await CloseAndVerifyAsync();
        var messages = entries.Where(e => e.Kind == AuditKinds.Message).Select(e => e.MessageId).ToList();

        // Every stored message has its entry, the refused one too (written once the disk came back).
        Assert.Equal((await _store.ListMessagesAsync(null, CancellationToken.None)).Select(m => m.MessageId).Order(StringComparer.Ordinal), messages.Order(StringComparer.Ordinal));
        Assert.Contains(before, messages);
        Assert.Contains(after, messages);
        Assert.Contains(entries, e => e.Kind == AuditKinds.Command && e.Command == "MAIL" && e.Reply?.StartsWith("451 4.3.0", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Continue_lets_mail_flow_through_the_fault_logs_it_unaudited_and_the_entries_reach_the_log_when_it_recovers()
    {
        Start(AuditFailurePolicy.Continue);
        await using var client = await ConnectAsync();
        var before = await DeliverAsync(client, "before the fault");

        string during1;
        string during2;
        BreakFolder();
        try
        {
            during1 = await DeliverAsync(client, "during the fault, first");
            Assert.False(_audit.IsWritable);
            during2 = await DeliverAsync(client, "during the fault, second");
            foreach (var id in new[] { during1, during2 })
            {
                Assert.Contains(_logger.Lines, l => l.Contains(id, StringComparison.Ordinal) && l.Contains("confirmed unaudited", StringComparison.Ordinal));
            }
        }
        finally
        {
            RestoreFolder();
        }

        await WaitUntilWritableAsync();
        var after = await DeliverAsync(client, "after the fault");
        Assert.Equal(221, (await client.CommandAsync("QUIT")).Code);

        var entries = await CloseAndVerifyAsync();
        var messages = entries.Where(e => e.Kind == AuditKinds.Message).Select(e => e.MessageId!).Order(StringComparer.Ordinal);
        Assert.Equal(new[] { before, during1, during2, after }.Order(StringComparer.Ordinal), messages);
    }

    /// <summary>The log's folder becomes a plain file: the next file the log creates there fails (ENOTDIR).</summary>
    private void BreakFolder()
    {
        Directory.Move(AuditFolder, AuditFolder + ".away");
        File.WriteAllText(AuditFolder, "not a folder");
    }

    private void RestoreFolder()
    {
        File.Delete(AuditFolder);
        Directory.Move(AuditFolder + ".away", AuditFolder);
    }

    /// <summary>The log retries on its own (once a second); nothing to await but its state.</summary>
    private async Task WaitUntilWritableAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!_audit.IsWritable)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), timeout.Token);
        }
    }

    /// <summary>Stops the server and closes the log (audit.stop), then checks the chain as <c>mailroom audit verify</c> does and reads every entry.</summary>
    private async Task<List<AuditEvent>> CloseAndVerifyAsync()
    {
        await _server.DisposeAsync();
        _server = null!;
        await _audit.DisposeAsync();
        var verification = AuditVerifier.Verify([AuditFolder], _chainKey);
        Assert.True(verification.Intact, string.Join("; ", verification.Streams.Select(s => $"{s.Stream}: {s.Break?.Message} {string.Join(", ", s.Notes)}")));
        var records = AuditReader.Read([AuditFolder], new AuditKeyring()).ToList();
        Assert.All(records, r => Assert.Null(r.Problem));
        Assert.DoesNotContain(records, r => r.Event?.Kind == AuditKinds.LogGap);
        return [.. records.Select(r => r.Event!)];
    }

    private async Task<RawClient> ConnectAsync()
    {
        var client = await RawClient.ConnectAsync(_server.Endpoints[0]);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.Equal(250, (await client.CommandAsync("EHLO client.example.net")).Code);
        return client;
    }

    private static async Task<SmtpReply> SendAsync(RawClient client, string subject)
    {
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<sender@example.net>")).Code);
        Assert.Equal(250, (await client.CommandAsync($"RCPT TO:<{Alice}>")).Code);
        Assert.Equal(354, (await client.CommandAsync("DATA")).Code);
        await client.SendAsync($"From: sender@example.net\r\nTo: {Alice}\r\nSubject: {subject}\r\n\r\nbody\r\n.\r\n");
        return (await client.ReadReplyAsync())!;
    }

    private static async Task<string> DeliverAsync(RawClient client, string subject)
    {
        var accepted = await SendAsync(client, subject);
        Assert.True(accepted.Code == 250, accepted.ToString());
        return accepted.Lines[0][(accepted.Lines[0].LastIndexOf(' ') + 1)..];
    }

    private static void AssertReply(ReplyTemplate expected, SmtpReply actual) =>
        Assert.True(expected.Code == actual.Code && Equals(expected.Enhanced, actual.Enhanced), $"expected {expected.Code} {expected.Enhanced}, got {actual}");
}
