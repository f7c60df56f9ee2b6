using System.Globalization;
using System.Text.RegularExpressions;

namespace Mailroom.Core.Audit;

/// <summary>
/// What an audit.start entry's Detail says, written and read in this one place: the writer notes
/// there what it found when it opened the log (a tail cut since the last run, a head anchor
/// altered), and the verifier reports it, because the writer overwrites the head anchor that
/// showed it. The log's own entries are always in the clear, so the verifier needs no key.
/// </summary>
internal static partial class AuditStartDetail
{
    private const string Forged = "the head anchor does not match its seal: it was altered";
    private const string NewLog = "a new log";
    private const string NoHead = "there was no head anchor";
    private const string UnreadableHead = "the head anchor could not be read";

    public static string Format(
        ParsedEntry? last, string? lastFile, IAuditCipher cipher, AuditHead? head, HeadProblem headProblem)
    {
        var parts = new List<string>
        {
            last is null
                ? NewLog
                : string.Create(CultureInfo.InvariantCulture, $"continues from entry {last.Sequence} in {lastFile}"),
            cipher is NoAuditCipher
                ? "cipher none"
                : $"cipher {cipher.Name}{(cipher.IsObfuscationOnly ? " (obfuscation only)" : "")}, key {cipher.KeyId}",
        };
        var lastSequence = last?.Sequence ?? 0;
        switch (headProblem)
        {
            case HeadProblem.Forged:
                parts.Add(Forged);
                break;
            case HeadProblem.Unreadable:
                parts.Add(UnreadableHead);
                break;
            case HeadProblem.Missing when last is not null:
                parts.Add(NoHead);
                break;
        }

        if (head is not null && head.Sequence > lastSequence)
        {
            parts.Add(Missing(lastSequence + 1, head.Sequence) + $": the head anchor names entry {head.Sequence.ToString(CultureInfo.InvariantCulture)}");
        }
        else if (head is not null && last is not null && head.Sequence == lastSequence && !head.Mac.AsSpan().SequenceEqual(last.Mac))
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"entry {lastSequence} does not match the head anchor"));
        }

        return string.Join("; ", parts);
    }

    /// <summary>"entry 5 is missing", "entries 5 to 9 are missing".</summary>
    public static string Missing(long first, long last) =>
        first == last
            ? string.Create(CultureInfo.InvariantCulture, $"entry {first} is missing")
            : string.Create(CultureInfo.InvariantCulture, $"entries {first} to {last} are missing");

    /// <summary>The entries the writer found cut from the end of the log, if it says so.</summary>
    public static bool TryGetMissing(string? detail, out long first, out long last)
    {
        first = last = 0;
        var match = detail is null ? Match.Empty : MissingPattern().Match(detail);
        if (!match.Success)
        {
            return false;
        }

        first = long.Parse(match.Groups["first"].Value, CultureInfo.InvariantCulture);
        last = match.Groups["last"].Success ? long.Parse(match.Groups["last"].Value, CultureInfo.InvariantCulture) : first;
        return true;
    }

    /// <summary>Whether the writer found the head anchor altered, or not matching the entry it names.</summary>
    public static bool ReportsAlteredHead(string? detail) =>
        detail is not null && (detail.Contains(Forged, StringComparison.Ordinal) || detail.Contains("does not match the head anchor", StringComparison.Ordinal));

    /// <summary>Whether the writer started a brand-new log: no entries before it, so no head anchor to find.</summary>
    public static bool IsNewLog(string? detail) => detail is not null && detail.StartsWith(NewLog, StringComparison.Ordinal);

    /// <summary>Whether the writer found the head anchor gone or unreadable, which would hide entries cut from the end.</summary>
    public static bool ReportsLostHead(string? detail) =>
        detail is not null && (detail.Contains(NoHead, StringComparison.Ordinal) || detail.Contains(UnreadableHead, StringComparison.Ordinal));

    [GeneratedRegex(@"entr(?:y|ies) (?<first>[0-9]+)(?: to (?<last>[0-9]+))? (?:is|are) missing", RegexOptions.CultureInvariant)]
    private static partial Regex MissingPattern();
}
