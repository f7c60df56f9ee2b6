using System.Security.Cryptography;
using Mailroom.Core.Audit;

namespace Mailroom.Core.Tests.Audit;

/// <summary>A fresh audit folder under the temp folder, removed afterwards, and a clock the test moves.</summary>
public abstract class AuditTestBase : IDisposable
{
    protected static readonly DateTimeOffset Start = new(2026, 11, 28, 18, 30, 0, TimeSpan.Zero);

    protected string Root { get; } = Path.Combine(Path.GetTempPath(), "mailroom-audit-test-" + Guid.NewGuid().ToString("N"));

    protected string Folder => Path.Combine(Root, "audit");

    protected byte[] ChainKey { get; } = RandomNumberGenerator.GetBytes(32);

    internal ManualTimeProvider Time { get; } = new(Start);

    protected AuditLogOptions Options(IAuditCipher? cipher = null, string stream = "server", string node = "node-a") => new()
    {
        Folder = Folder,
        Stream = stream,
        Node = node,
        ChainKey = ChainKey,
        Cipher = cipher ?? NoAuditCipher.Instance,
    };

    internal Task<FileAuditLog> OpenAsync(AuditLogOptions? options = null, IAuditFileSystem? fileSystem = null) =>
        FileAuditLog.OpenAsync(options ?? Options(), Time, fileSystem ?? AuditFileSystem.Instance, CancellationToken.None);

    /// <summary>A log of one writer's run: audit.start, <paramref name="count"/> events numbered from <paramref name="first"/>, audit.stop.</summary>
    protected async Task WriteRunAsync(int count, int first = 1, AuditLogOptions? options = null, bool newFile = false)
    {
        await using var log = await OpenAsync(newFile ? (options ?? Options()) with { ContinueNewestFile = false } : options);
        for (var i = first; i < first + count; i++)
        {
            log.Record(Event(i));
        }
    }

    protected static AuditEvent Event(int i, string kind = AuditKinds.Command, DateTimeOffset timestamp = default) => new()
    {
        Kind = kind,
        Outcome = AuditOutcome.Ok,
        Timestamp = timestamp,
        Session = "s" + i,
        Client = "192.0.2.1:40000",
        Listener = "smtp",
        User = $"user-{i}@example.com",
        Command = "MAIL",
        Arguments = "FROM:<a@example.org>",
        Reply = "250 2.1.0",
    };

    protected string[] LogFiles(string? stream = null) =>
        [.. Directory.GetFiles(Folder, (stream ?? "*") + "-*.jsonl").Order(StringComparer.Ordinal)];

    protected AuditVerification Verify() => AuditVerifier.Verify([Folder], ChainKey);

    protected static List<AuditRecord> ReadAll(string path, AuditKeyring? keyring = null, AuditFilter? filter = null) =>
        [.. AuditReader.Read([path], keyring ?? new AuditKeyring(), filter)];

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }

        GC.SuppressFinalize(this);
    }
}
