namespace Mailroom.Storage.Sqlite;

/// <summary>
/// Where message bodies live: <c>messages/&lt;first two characters of the id&gt;/&lt;id&gt;.eml</c> under
/// the data folder. Bodies are files, not BLOBs, so a 100 MB message streams to disk without
/// being held in memory and the database stays small; the two-character fan-out keeps any one
/// directory from growing to millions of entries.
/// </summary>
internal sealed class BodyFiles(string dataDirectory)
{
    public const string FolderName = "messages";
    private const string Extension = ".eml";

    public string Root { get; } = Path.Combine(dataDirectory, FolderName);

    /// <summary>The body's path relative to the data folder, with '/' separators, as stored in <c>messages.body_path</c>.</summary>
    public static string RelativePath(string messageId) =>
        $"{FolderName}/{messageId[..2]}/{messageId}{Extension}";

    public string FullPath(string relativePath) =>
        Path.Combine(dataDirectory, relativePath.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>
    /// Ids become file names, so only letters, digits, '-' and '_' are accepted: no id can name a
    /// path outside the messages folder. <see cref="Core.Delivery.MessageIds"/> ids always pass.
    /// </summary>
    public static bool IsSafeId(string messageId) =>
        messageId.Length is >= 2 and <= 128 && messageId.AsSpan().IndexOfAnyExcept(SafeIdChars) < 0;

    /// <summary>Body files with their ids, for the orphan sweep.</summary>
    public IEnumerable<(string Id, FileInfo File)> Enumerate()
    {
        if (!Directory.Exists(Root))
        {
            yield break;
        }

        foreach (var directory in new DirectoryInfo(Root).EnumerateDirectories())
        {
            foreach (var file in directory.EnumerateFiles("*" + Extension))
            {
                yield return (Path.GetFileNameWithoutExtension(file.Name), file);
            }
        }
    }

    private static readonly System.Buffers.SearchValues<char> SafeIdChars =
        System.Buffers.SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_");
}
