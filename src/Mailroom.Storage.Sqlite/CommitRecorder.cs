namespace Mailroom.Storage.Sqlite;

/// <summary>The durable steps of a delivery's commit, in the order they must happen.</summary>
internal enum CommitStep
{
    /// <summary>The body file's data reached the disk (fsync of the file in <c>messages/tmp/</c>).</summary>
    BodySynced,

    /// <summary>The body file was renamed to its final path.</summary>
    BodyRenamed,

    /// <summary>A directory whose entries changed was synced, so the rename survives power loss.</summary>
    DirectorySynced,

    /// <summary>The transaction holding the messages and deliveries rows committed.</summary>
    RowCommitted,
}

/// <summary>
/// Watches a commit step by step. A crash test cannot see a missing fsync (the page cache
/// survives the process), so tests install one of these on a store to check the order instead.
/// Production stores have none; reporting is then a null check.
/// </summary>
internal interface ICommitRecorder
{
    /// <summary>Called right after <paramref name="step"/> completed; <paramref name="path"/> is the file, folder or message id it concerns.</summary>
    void Record(CommitStep step, string path);
}
