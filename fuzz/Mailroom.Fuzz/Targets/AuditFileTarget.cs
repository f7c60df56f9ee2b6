using System.Globalization;
using Mailroom.Core.Audit;

namespace Mailroom.Fuzz.Targets;

/// <summary>
/// A whole log file's bytes through <see cref="AuditReader"/> (with keys for every cipher the
/// seeds use) and <see cref="AuditVerifier"/>: damage is a problem on a record or a break in the
/// chain, never an exception. The file lives in MAILROOM_FUZZ_TMP (fuzz/run.sh points it into the
/// target's output folder), one folder per process.
/// </summary>
internal static class AuditFileTarget
{
    public static readonly byte[] ChainKey = [.. Enumerable.Repeat((byte)0x42, 32)];
    public static readonly byte[] AesKey = [.. Enumerable.Repeat((byte)0x17, 32)];

    private static readonly Lazy<string> Folder = new(() =>
    {
        var root = Environment.GetEnvironmentVariable("MAILROOM_FUZZ_TMP") is { Length: > 0 } tmp ? tmp : Path.GetTempPath();
        var folder = Path.Combine(root, "mailroom-fuzz-audit-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(folder, recursive: true);
        return folder;
    });

    private static readonly AuditKeyring Keyring = CreateKeyring();

    public static void Run(byte[] input)
    {
        var data = new FuzzInput(input).DataArray;
        var path = Path.Combine(Folder.Value, "server-20261128-0001.jsonl");
        File.WriteAllBytes(path, data);

        var records = AuditReader.Read([path], Keyring).ToList();
        foreach (var record in records)
        {
            Invariant.Check((record.Event is null) != (record.Problem is null), $"record at line {record.Line}: an event and a problem, or neither");
            Invariant.Check(record.Line >= 1 && record.File == path, "a record with no line or another file");
        }

        var verification = AuditVerifier.Verify([path], ChainKey);
        Invariant.Check(verification.Streams.Count == 1, $"{verification.Streams.Count} streams in one file");
    }

    private static AuditKeyring CreateKeyring()
    {
        var keyring = new AuditKeyring();
        keyring.Add(new AesGcmAuditCipher(AesKey));
        return keyring;
    }
}
