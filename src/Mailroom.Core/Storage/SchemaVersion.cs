namespace Mailroom.Core.Storage;

/// <summary>What <c>mailroom db migrate</c> did: the schema version before and after.</summary>
public sealed record SchemaMigration(int From, int To)
{
    public bool Changed => From != To;
}

/// <summary>
/// The database's schema is not the one this Mailroom runs on: newer (written by a later
/// Mailroom; upgrade this one) or, for a store that does not migrate by itself, older (run
/// <c>mailroom db migrate</c>). The message says which, and what to do.
/// </summary>
public sealed class SchemaVersionException : StorageException
{
    public SchemaVersionException()
    {
    }

    public SchemaVersionException(string message)
        : base(message)
    {
    }

    public SchemaVersionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public SchemaVersionException(int databaseVersion, int knownVersion, string message)
        : base(message)
    {
        DatabaseVersion = databaseVersion;
        KnownVersion = knownVersion;
    }

    /// <summary>The version recorded in the database.</summary>
    public int DatabaseVersion { get; }

    /// <summary>The newest version this Mailroom knows.</summary>
    public int KnownVersion { get; }
}
