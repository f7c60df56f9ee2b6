namespace Mailroom.Storage.Postgres;

/// <summary>Where the PostgreSQL store's database is, and where this node spools bodies in flight.</summary>
public sealed record PostgresStoreOptions
{
    /// <summary>
    /// An Npgsql connection string (<c>Host=db1;Database=mailroom;Username=mailroom</c>). It may
    /// name a pgpass-format file with <c>Passfile=</c>; <see cref="PasswordFile"/> is the other way
    /// to keep the password out of the configuration.
    /// </summary>
    public required string ConnectionString { get; init; }

    /// <summary>A file holding only the password (a trailing newline is ignored); read at open.</summary>
    public string? PasswordFile { get; init; }

    /// <summary>
    /// A folder of this node for message bodies larger than <see cref="PostgresMailStore.MemoryBodyLimit"/>
    /// while DATA is in progress; they move into the database at commit. Nothing in it outlives a
    /// delivery, so it needs no backup and no sharing.
    /// </summary>
    public required string SpoolDirectory { get; init; }
}
