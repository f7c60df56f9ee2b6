using System.Collections.Concurrent;

namespace Mailroom.Storage.Sqlite;

/// <summary>
/// Where message bodies live under the data folder. A delivery writes
/// <c>messages/tmp/&lt;id&gt;.eml</c>; its commit renames that to
/// <c>messages/&lt;last two characters of the id&gt;/&lt;id&gt;.eml</c>. Bodies are files, not BLOBs, so a
/// 100 MB message streams to disk without being held in memory and the database stays small.
/// The fan-out uses the end of the id because a message id (<see cref="Core.Delivery.MessageIds"/>)
/// starts with its timestamp, whose top characters are the same for decades; its last two are
/// random, which spreads the bodies over 1,024 folders.
/// </summary>
internal sealed class BodyFiles(string dataDirectory)
{
    public const string FolderName = "messages";
    public const string TempFolderName = "tmp";
    private const string Extension = ".eml";

    public string Root { get; } = Path.Combine(dataDirectory, FolderName);

    public string TempRoot { get; } = Path.Combine(dataDirectory, FolderName, TempFolderName);

    /// <summary>
    /// The final path relative to the data folder, with '/' separators, as stored in
    /// <c>messages.body_path</c>. Rows keep the path they were stored with, so bodies stored
    /// under an earlier layout stay readable.
    /// </summary>
    public static string RelativePath(string messageId) =>
        $"{FolderName}/{messageId[^2..]}/{messageId}{Extension}";

    public string FullPath(string relativePath) =>
        Path.Combine(dataDirectory, relativePath.Replace('/', Path.DirectorySeparatorChar));

    public string TempPath(string messageId) => Path.Combine(TempRoot, messageId + Extension);

    /// <summary>
    /// Ids become file names, so only letters, digits, '-' and '_' are accepted: no id can name a
    /// path outside the messages folder. <see cref="Core.Delivery.MessageIds"/> ids always pass.
    /// </summary>
    public static bool IsSafeId(string messageId) =>
        messageId.Length is >= 2 and <= 128 && messageId.AsSpan().IndexOfAnyExcept(SafeIdChars) < 0;

    /// <summary>Files in <c>messages/tmp/</c>, for the sweep at open.</summary>
    public IEnumerable<FileInfo> EnumerateTemp() =>
        Directory.Exists(TempRoot) ? new DirectoryInfo(TempRoot).EnumerateFiles() : [];

    /// <summary>
    /// Whether this store has already synced <c>messages/</c> since it saw <paramref name="folder"/>.
    /// "The writer just created the folder" is not enough: a second writer may commit into a
    /// folder another writer created a moment ago and has not synced yet. So the first commit into
    /// each folder in a process syncs <c>messages/</c>; at most one extra fsync per folder.
    /// </summary>
    public bool IsEntryDurable(string folder) => _durableFolders.ContainsKey(folder);

    public void MarkEntryDurable(string folder) => _durableFolders.TryAdd(folder, 0);

    private readonly ConcurrentDictionary<string, byte> _durableFolders = new(StringComparer.Ordinal);

    private static readonly System.Buffers.SearchValues<char> SafeIdChars =
        System.Buffers.SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_");
}
