namespace Mailroom.Core.Storage;

/// <summary>
/// The store could not do what was asked through no fault of the request: the database or disk
/// failed. The server answers 451 4.3.0 (452 4.3.1 when <see cref="IsFull"/>); the detail goes to
/// the log only.
/// </summary>
public class StorageException : Exception
{
    public StorageException()
    {
    }

    public StorageException(string message)
        : base(message)
    {
    }

    public StorageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>True when the store ran out of space (ENOSPC, SQLITE_FULL).</summary>
    public bool IsFull { get; init; }
}

/// <summary>An admin change conflicts with what is stored (a duplicate, a domain still in use).</summary>
public class DirectoryConflictException : Exception
{
    public DirectoryConflictException()
    {
    }

    public DirectoryConflictException(string message)
        : base(message)
    {
    }

    public DirectoryConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
