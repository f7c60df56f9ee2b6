using System.Globalization;
using System.Text.RegularExpressions;

namespace Mailroom.Core.Audit;

/// <summary>A log file of a stream: <c>&lt;stream&gt;-&lt;yyyyMMdd&gt;-&lt;nnnn&gt;.jsonl</c>.</summary>
internal sealed record AuditLogFile(string Path, string Stream, int Day, int Number)
{
    public string Name => System.IO.Path.GetFileName(Path);
}

/// <summary>The files of one stream in one folder, in write order.</summary>
internal sealed record AuditStreamFiles(string Folder, string Stream, IReadOnlyList<AuditLogFile> Files)
{
    /// <summary>Whether the newest file of the stream in its folder is among these: only then does the head anchor speak for them.</summary>
    public bool IncludesNewest { get; init; }
}

/// <summary>
/// How log files are named and found. Name order is write order: the day, then a number that
/// grows within the day (compared as numbers, so a 10,000th file still sorts last).
/// </summary>
internal static partial class AuditFileNames
{
    public const string Extension = ".jsonl";

    public static string FileName(string stream, DateOnly day, int number) =>
        string.Create(CultureInfo.InvariantCulture, $"{stream}-{day:yyyyMMdd}-{number:D4}{Extension}");

    public static string LockPath(string folder, string stream) => System.IO.Path.Combine(folder, stream + ".lock");

    public static string HeadPath(string folder, string stream) => System.IO.Path.Combine(folder, stream + ".head");

    /// <summary>Stream names become file names, so they are kept to a safe alphabet.</summary>
    public static bool IsValidStream(string stream) => StreamPattern().IsMatch(stream);

    public static AuditLogFile? TryParse(string path)
    {
        var match = FilePattern().Match(System.IO.Path.GetFileName(path));
        return match.Success
            ? new AuditLogFile(
                path,
                match.Groups["stream"].Value,
                int.Parse(match.Groups["day"].Value, CultureInfo.InvariantCulture),
                int.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture))
            : null;
    }

    /// <summary>One stream's files in a folder, oldest first.</summary>
    public static List<AuditLogFile> ListStream(string folder, string stream) =>
        [.. List(folder).Where(f => f.Stream == stream).OrderBy(f => f.Day).ThenBy(f => f.Number)];

    /// <summary>
    /// The streams in the given folders and files. A .jsonl file not named like a log file is a
    /// stream of its own, named after the file, so an exported or renamed file still reads.
    /// </summary>
    /// <exception cref="AuditLogException">A path does not exist.</exception>
    public static List<AuditStreamFiles> Group(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var files = new Dictionary<string, AuditLogFile>(StringComparer.Ordinal);
        var folders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            var full = System.IO.Path.GetFullPath(path);
            if (Directory.Exists(full))
            {
                folders.Add(full);
                foreach (var file in List(full))
                {
                    files.TryAdd(file.Path, file);
                }
            }
            else if (File.Exists(full))
            {
                files.TryAdd(full, TryParse(full) ?? new AuditLogFile(full, System.IO.Path.GetFileNameWithoutExtension(full), 0, 0));
            }
            else
            {
                throw new AuditLogException($"There is no audit log file or folder at {path}.");
            }
        }

        return [.. files.Values
            .GroupBy(f => (Folder: System.IO.Path.GetDirectoryName(f.Path)!, f.Stream))
            .OrderBy(g => g.Key.Folder, StringComparer.Ordinal).ThenBy(g => g.Key.Stream, StringComparer.Ordinal)
            .Select(g => ToStreamFiles(g.Key.Folder, g.Key.Stream, g, folders))];
    }

    private static AuditStreamFiles ToStreamFiles(string folder, string stream, IEnumerable<AuditLogFile> files, HashSet<string> wholeFolders)
    {
        var ordered = files.OrderBy(f => f.Day).ThenBy(f => f.Number).ThenBy(f => f.Path, StringComparer.Ordinal).ToList();
        var includesNewest = wholeFolders.Contains(folder)
            || ListStream(folder, stream).LastOrDefault() is { } newest && newest.Path == ordered[^1].Path;
        return new AuditStreamFiles(folder, stream, ordered) { IncludesNewest = includesNewest };
    }

    private static IEnumerable<AuditLogFile> List(string folder) =>
        Directory.EnumerateFiles(folder, "*" + Extension)
            .Select(p => TryParse(p) ?? new AuditLogFile(p, System.IO.Path.GetFileNameWithoutExtension(p), 0, 0));

    [GeneratedRegex(@"^(?<stream>[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63})-(?<day>[0-9]{8})-(?<n>[0-9]{4,9})\.jsonl$", RegexOptions.CultureInvariant)]
    private static partial Regex FilePattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex StreamPattern();
}
