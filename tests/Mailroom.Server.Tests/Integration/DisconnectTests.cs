using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MailKit.Security;
using Mailroom.Core.Accounts;
using Mailroom.Core.Audit;
using Mailroom.Testing.Disconnects;
using Microsoft.Data.Sqlite;
using MimeKit;

namespace Mailroom.Server.Tests.Integration;

/// <summary>
/// Issue 9, item 2: connections cut at random points of random transactions (EHLO, STARTTLS and
/// its handshake, AUTH and its SASL exchange, MAIL, RCPT, DATA, BDAT, mailbox commands), by FIN
/// and by RST. No partial message is ever stored, no lock, transaction or body file is left
/// behind, a DELE is all or nothing, and the server goes on serving. The script, the cutting
/// client and the store-neutral checks are shared with the PostgreSQL test
/// (tests/Shared/DisconnectScript.cs); here are the in-process server on SQLite and its checks.
/// </summary>
public class DisconnectTests
{
    private const int DefaultSeed = 20260911;
    private const int Cases = 1200;
    private const int Lanes = 3;

    [Fact]
    public async Task Cuts_at_random_points_leave_no_partial_message_no_open_lock_or_file_and_the_server_serves_on()
    {
        var seed = DisconnectRun.Seed(DefaultSeed);
        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"Seed {seed} (set MAILROOM_PROPERTY_SEED to replay another), {Cases} cases on {Lanes} connections at a time");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var audit = new SessionAudit();
        var options = new SmtpServerOptions
        {
            AllowPlaintextAuthOnLoopback = true,
            MailboxCommandsOnMx = true,
            MaxConnectionsPerAddress = 1000,
            MaxLoginFailuresPerAddress = 1_000_000,
            MaxLoginFailuresPerAccount = 1_000_000,
        };
        await using var server = await LoopbackServer.StartAsync(options, tls: true, auth: true, audit: audit);
        var hasher = new PasswordHasher(iterations: 4096);
        await server.Store.AddAccountAsync("carol@example.test", hasher.Hash(LoopbackServer.Password), CancellationToken.None);

        var fingerprint = server.Certificates!.Fingerprint;
        const int InlineLimit = Storage.Sqlite.SqliteMailStore.DefaultInlineBodyLimit;
        var run = new DisconnectRun(
            new DisconnectTarget
            {
                Endpoint = _ => server.Endpoint,
                TrustsCertificate = certificate => certificate is not null && Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)) == fingerprint,
                Store = server.Store,
                Hasher = hasher,
                Password = LoopbackServer.Password,

                // 0 to 300 KB, a third of them over the inline limit: a cut one has its body file begun in messages/tmp.
                BodySizes = [(0, 2048), (2048, InlineLimit), (InlineLimit, 300 * 1024)],
            },
            seed);
        await run.CutAsync(Cases, Lanes);
        var cutTime = clock.Elapsed;

        // The server has noticed every cut: every session that began has ended (and, ending, aborted its transaction).
        await audit.WaitForAllEndedAsync(TimeSpan.FromSeconds(30));

        await run.CheckMessagesAsync();
        await CheckNoLockAndNoStrayFileAsync(server, run, seed);
        await run.CheckMailboxesAsync();
        await CheckServesOnAsync(server, hasher);

        output?.WriteLine($"{Cases} cases in {cutTime.TotalSeconds:F1} s, checks done at {clock.Elapsed.TotalSeconds:F1} s; {audit.Sessions} sessions");
        run.Report(output);
    }

    /// <summary>Check 2: nobody holds SQLite's write lock, and no body file is left in tmp/ or without its row.</summary>
    private static async Task CheckNoLockAndNoStrayFileAsync(LoopbackServer server, DisconnectRun run, int seed)
    {
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(server.Folder, Storage.Sqlite.SqliteMailStore.DatabaseFileName),
            Pooling = false,
            DefaultTimeout = 1,
        }.ToString();
        await using (var connection = new SqliteConnection(connectionString))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA busy_timeout = 0; BEGIN IMMEDIATE; ROLLBACK;";
            await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var ids = (await server.Store.ListMessagesAsync(null, CancellationToken.None)).Select(s => s.MessageId).ToHashSet(StringComparer.Ordinal);
        var messages = Path.Combine(server.Folder, "messages");
        var temp = Directory.Exists(Path.Combine(messages, "tmp")) ? Directory.GetFiles(Path.Combine(messages, "tmp")) : [];
        Assert.True(temp.Length == 0, $"seed {seed}: files left in messages/tmp: {string.Join(", ", temp.Select(Path.GetFileName))}");
        var strays = (Directory.Exists(messages) ? Directory.GetFiles(messages, "*", SearchOption.AllDirectories) : [])
            .Where(f => !ids.Contains(Path.GetFileNameWithoutExtension(f)))
            .ToList();
        Assert.True(strays.Count == 0, $"seed {seed}: body files without a stored message: {string.Join(", ", strays.Select(Path.GetFileName))}");
        Assert.True(run.Deliveries.Any(d => d.Content.Length > Storage.Sqlite.SqliteMailStore.DefaultInlineBodyLimit && d.Status == DeliveryStatus.Incomplete), $"seed {seed}: no body over the inline limit was cut");
    }

    /// <summary>Check 3: a normal client delivers, and a mailbox session reads what it delivered.</summary>
    private static async Task CheckServesOnAsync(LoopbackServer server, PasswordHasher hasher)
    {
        await server.Store.AddAccountAsync("after@example.test", hasher.Hash(LoopbackServer.Password), CancellationToken.None);
        using (var client = server.PinnedMailKitClient())
        {
            await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.StartTls, TestContext.Current.CancellationToken);
            var message = new MimeMessage();
            message.From.Add(MailboxAddress.Parse("sender@remote.test"));
            message.To.Add(MailboxAddress.Parse("after@example.test"));
            message.Subject = "after the cuts";
            message.Body = new TextPart("plain") { Text = "still serving" };
            await client.SendAsync(message, TestContext.Current.CancellationToken);
            await client.DisconnectAsync(true, TestContext.Current.CancellationToken);
        }

        Assert.Equal("after the cuts", Assert.Single(await server.Store.ListMessagesAsync("after@example.test", CancellationToken.None)).Subject);
        await using var reader = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await reader.ReadReplyAsync())!.Code);
        Assert.Equal(250, (await reader.CommandAsync("EHLO reader.test")).Code);
        Assert.Equal(235, (await reader.CommandAsync($"LOGN after@example.test {LoopbackServer.Password}")).Code);
        Assert.Equal(250, (await reader.CommandAsync("READ INBOX")).Code);
        var reply = await reader.CommandAsync("NEXT");
        Assert.Equal(250, reply.Code);
        var body = await reader.ReadBytesAsync(long.Parse(reply.Lines[0].Split(' ')[2], CultureInfo.InvariantCulture));
        Assert.Contains("still serving", Encoding.ASCII.GetString(body), StringComparison.Ordinal);
        Assert.Equal(221, (await reader.CommandAsync("QUIT")).Code);
    }

    /// <summary>Counts sessions by their audit entries: one that connected and has not yet disconnected is still being served.</summary>
    private sealed class SessionAudit : IAuditLog
    {
        private readonly HashSet<string> _open = new(StringComparer.Ordinal);
        private readonly Lock _gate = new();
        private TaskCompletionSource? _allEnded;
        private int _sessions;

        public bool IsWritable => true;

        public int Sessions => Volatile.Read(ref _sessions);

        public void Record(AuditEvent entry)
        {
            if (entry.Session is null)
            {
                return;
            }

            if (entry.Kind == AuditKinds.Connect && entry.Outcome == AuditOutcome.Ok)
            {
                lock (_gate)
                {
                    _open.Add(entry.Session);
                }

                Interlocked.Increment(ref _sessions);
            }
            else if (entry.Kind == AuditKinds.Disconnect)
            {
                lock (_gate)
                {
                    // Armed only once the test waits, after the cuts: an empty set before they start means nothing.
                    if (_open.Remove(entry.Session) && _open.Count == 0)
                    {
                        _allEnded?.TrySetResult();
                    }
                }
            }
        }

        public ValueTask RecordDurableAsync(AuditEvent entry, CancellationToken cancellationToken)
        {
            Record(entry);
            return ValueTask.CompletedTask;
        }

        /// <summary>Waits for the disconnect record that leaves no session open (at once if none is open now).</summary>
        public async Task WaitForAllEndedAsync(TimeSpan timeout)
        {
            var allEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                _allEnded = allEnded;
                if (_open.Count == 0)
                {
                    allEnded.TrySetResult();
                }
            }

            try
            {
                await allEnded.Task.WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                int open;
                lock (_gate)
                {
                    open = _open.Count;
                }

                Assert.Fail($"{open} session(s) still open {timeout.TotalSeconds} s after the last cut");
            }
        }
    }
}
