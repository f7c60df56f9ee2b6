namespace Mailroom.Core.Audit;

/// <summary>A stream's head anchor as read, or why it could not be used.</summary>
internal sealed record HeadReading(string Path, AuditHead? Head, HeadProblem Problem, bool Exists);

/// <summary>
/// The head anchors and lock files of the streams to verify, read before any log file is listed.
/// A live writer only moves its head anchor forward, and only to entries already on disk, so an
/// anchor read first names nothing the files listed afterwards lack; read last, it could name
/// entries in a file created (by rotation) after the listing, and look like a cut tail.
/// </summary>
internal sealed class AuditAnchors
{
    private readonly Dictionary<(string Folder, string Stream), HeadReading> _heads = [];
    private readonly HashSet<(string Folder, string Stream)> _locks = [];

    /// <summary>Reads every head anchor and lock file of the given folders, and the head anchor of each given file's stream; paths that do not exist are left to the listing to report.</summary>
    public static AuditAnchors Read(IEnumerable<string> paths, byte[] chainKey)
    {
        var anchors = new AuditAnchors();
        foreach (var full in paths.Select(Path.GetFullPath))
        {
            if (Directory.Exists(full))
            {
                foreach (var head in Directory.EnumerateFiles(full, "*.head"))
                {
                    anchors.ReadHead(full, Path.GetFileNameWithoutExtension(head), chainKey);
                }

                foreach (var lockFile in Directory.EnumerateFiles(full, "*.lock"))
                {
                    anchors._locks.Add((full, Path.GetFileNameWithoutExtension(lockFile)));
                }
            }
            else if (File.Exists(full))
            {
                var stream = AuditFileNames.TryParse(full)?.Stream ?? Path.GetFileNameWithoutExtension(full);
                anchors.ReadHead(Path.GetDirectoryName(full)!, stream, chainKey);
            }
        }

        return anchors;
    }

    /// <summary>The stream's head anchor as it was read: missing if there was none.</summary>
    public HeadReading Head(string folder, string stream) =>
        _heads.TryGetValue((folder, stream), out var reading)
            ? reading
            : new HeadReading(AuditFileNames.HeadPath(folder, stream), null, HeadProblem.Missing, Exists: false);

    /// <summary>The streams of a folder that had a head anchor or a lock file.</summary>
    public IEnumerable<string> StreamsIn(string folder) =>
        _heads.Keys.Concat(_locks).Where(k => k.Folder == folder).Select(k => k.Stream)
            .Where(AuditFileNames.IsValidStream).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);

    private void ReadHead(string folder, string stream, byte[] chainKey)
    {
        var path = AuditFileNames.HeadPath(folder, stream);
        var head = AuditHead.Read(path, stream, chainKey, out var problem);
        _heads.TryAdd((folder, stream), new HeadReading(path, head, problem, problem != HeadProblem.Missing));
    }
}
