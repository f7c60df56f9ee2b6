namespace Mailroom.Core.Audit;

/// <summary>What <c>mailroom audit verify</c> found, stream by stream (issue 5, item 2: "checks a whole log and says where it breaks").</summary>
/// <param name="Streams">Each stream found, in folder and name order.</param>
public sealed record AuditVerification(IReadOnlyList<StreamVerification> Streams)
{
    /// <summary>True when there was a log to check and no stream breaks: no files at all is not intact, since deleting every file must not pass.</summary>
    public bool Intact => Streams.Count > 0 && Streams.All(s => s.Break is null);
}

/// <summary>One stream's chain: how much was checked, where it breaks, and what is unusual but no tampering.</summary>
/// <param name="Folder">The folder the stream's files are in.</param>
/// <param name="Stream">The stream's name.</param>
/// <param name="Entries">How many entries were checked (up to the break, if any).</param>
/// <param name="Files">How many files were reached.</param>
/// <param name="FirstSequence">The first entry's number; above 1 when older files were removed; 0 for no entries.</param>
/// <param name="LastSequence">The last entry checked.</param>
/// <param name="Break">The first break in the chain, or null; checking stops there.</param>
/// <param name="Notes">Things an admin should know that are not tampering: a torn line from a crash, older files removed, a log still open.</param>
public sealed record StreamVerification(
    string Folder, string Stream, long Entries, int Files, long FirstSequence, long LastSequence, AuditBreak? Break, IReadOnlyList<string> Notes);

/// <summary>Where a chain breaks and how, in a sentence an admin understands ("entry 57's hash does not match its content: it was edited").</summary>
/// <param name="File">The file (or the head anchor) where the break shows.</param>
/// <param name="Line">The line in that file, from 1.</param>
/// <param name="Sequence">The entry concerned, when there is one.</param>
/// <param name="Kind">What kind of tampering it looks like.</param>
/// <param name="Message">What is wrong, in plain words.</param>
public sealed record AuditBreak(string File, int Line, long? Sequence, AuditBreakKind Kind, string Message);

/// <summary>The kinds of break the chain shows.</summary>
public enum AuditBreakKind
{
    /// <summary>An entry's content no longer matches its hash, or the head anchor was changed.</summary>
    Edited,

    /// <summary>Entries are missing from the middle of the chain.</summary>
    Removed,

    /// <summary>Entries are all there but out of order.</summary>
    Reordered,

    /// <summary>A line that does not belong to the chain was added to it.</summary>
    Inserted,

    /// <summary>Entries were cut from the end: the head anchor, or the writer at its next start, knows of later ones.</summary>
    Truncated,

    /// <summary>A line is not an audit entry at all.</summary>
    Malformed,
}
