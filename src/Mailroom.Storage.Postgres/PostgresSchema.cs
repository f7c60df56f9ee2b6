using Mailroom.Core.Storage;
using Npgsql;

namespace Mailroom.Storage.Postgres;

/// <summary>
/// Versioned schema migrations of the PostgreSQL store. Each entry moves the database from
/// version N-1 to N and runs in the transaction that records N in <c>schema_version</c>
/// (PostgreSQL's DDL is transactional), so a failure leaves the database at a whole version.
/// Migrations are append-only: never edit a shipped one. They run only by
/// <c>mailroom db migrate</c>: with several nodes on one database, a node that changes the
/// schema at start would change it under the others. A node checks the version at start and
/// refuses any other.
/// </summary>
internal static class PostgresSchema
{
    /// <summary>Any constant: two <c>db migrate</c> runs at once take turns on this advisory lock.</summary>
    private const long MigrationLock = 0x4D61696C726F6F6D; // "Mailroom"

    private static readonly string[] Migrations =
    [
        // 1: everything the SQLite store has at its version 4. Addresses and domain names are
        // stored lower-cased by the code (ToLowerInvariant). Message bodies are rows of
        // message_chunks (at most ChunkSize bytes each, in seq order), so every node reads every
        // body and a delivery's body commits in the same transaction as its rows. Times are
        // timestamptz, kept to the microsecond.
        """
        CREATE TABLE domains (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name text NOT NULL UNIQUE,
            created_utc timestamptz NOT NULL
        );

        CREATE TABLE accounts (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            address text NOT NULL UNIQUE,
            domain_id bigint NOT NULL REFERENCES domains (id) ON DELETE RESTRICT,
            password_hash text NOT NULL,
            created_utc timestamptz NOT NULL
        );
        CREATE INDEX accounts_domain ON accounts (domain_id);

        -- A personal mailbox belongs to an account; a shared or system mailbox to none.
        CREATE TABLE mailboxes (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            address text NOT NULL UNIQUE,
            name text NOT NULL,
            account_id bigint REFERENCES accounts (id) ON DELETE CASCADE
        );
        CREATE INDEX mailboxes_account ON mailboxes (account_id);

        CREATE TABLE messages (
            id text PRIMARY KEY,
            sender text NOT NULL,
            received_utc timestamptz NOT NULL,
            size bigint NOT NULL,
            subject text
        );
        CREATE INDEX messages_received ON messages (received_utc);

        CREATE TABLE message_chunks (
            message_id text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            seq integer NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (message_id, seq)
        );

        -- Bodies are mostly base64 attachments, which PostgreSQL's default compression (pglz)
        -- spends much CPU on for little gain; lz4 costs a fraction of that. A server built
        -- without lz4 keeps its default.
        DO $$
        BEGIN
            ALTER TABLE message_chunks ALTER COLUMN data SET COMPRESSION lz4;
        EXCEPTION WHEN feature_not_supported THEN
            NULL;
        END
        $$;

        -- A delivery with trashed_utc set is in the trash.
        CREATE TABLE deliveries (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            message_id text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            mailbox_id bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
            recipient text NOT NULL,
            trashed_utc timestamptz,
            UNIQUE (message_id, mailbox_id)
        );
        CREATE INDEX deliveries_mailbox ON deliveries (mailbox_id);
        CREATE INDEX deliveries_trashed ON deliveries (trashed_utc) WHERE trashed_utc IS NOT NULL;

        -- Flags belong to (delivery, reader), so readers of a shared mailbox each have their own.
        CREATE TABLE delivery_flags (
            delivery_id bigint NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
            account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
            read boolean NOT NULL DEFAULT false,
            important boolean NOT NULL DEFAULT false,
            PRIMARY KEY (delivery_id, account_id)
        );
        CREATE INDEX delivery_flags_account ON delivery_flags (account_id);

        -- RFC 4314's rights as a bit set (1 read, 2 mark, 4 delete, 8 administer).
        CREATE TABLE mailbox_rights (
            mailbox_id bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
            account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
            rights integer NOT NULL,
            PRIMARY KEY (mailbox_id, account_id)
        );
        CREATE INDEX mailbox_rights_account ON mailbox_rights (account_id);

        CREATE TABLE lists (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            address text NOT NULL UNIQUE,
            policy text NOT NULL,
            created_utc timestamptz NOT NULL
        );
        CREATE TABLE list_members (
            list_id bigint NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
            address text NOT NULL,
            PRIMARY KEY (list_id, address)
        );
        CREATE TABLE list_senders (
            list_id bigint NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
            address text NOT NULL,
            PRIMARY KEY (list_id, address)
        );
        """,

        // 2: secrets shared by every node and kept across restarts, such as the key that derives
        // the SCRAM salt of an account that does not exist (IDirectoryStore.GetOrAddSecretAsync).
        """
        CREATE TABLE server_secrets (
            name text PRIMARY KEY,
            value bytea NOT NULL
        );
        """,
    ];

    public static int CurrentVersion => Migrations.Length;

    /// <summary>The version recorded in the database; 0 when it has no Mailroom schema yet.</summary>
    public static async Task<int> ReadVersionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var exists = new NpgsqlCommand("SELECT to_regclass('schema_version') IS NOT NULL;", connection, transaction);
        if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
        {
            return 0;
        }

        await using var read = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM schema_version;", connection, transaction);
        return (int)(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Refuses a database whose schema is not exactly <see cref="CurrentVersion"/>, saying what to do.</summary>
    public static void Check(int version)
    {
        if (version > CurrentVersion)
        {
            throw new SchemaVersionException(
                version,
                CurrentVersion,
                $"The database schema is version {version}, but this Mailroom knows versions up to {CurrentVersion}; upgrade Mailroom on this node to run on it.");
        }

        if (version < CurrentVersion)
        {
            throw new SchemaVersionException(
                version,
                CurrentVersion,
                version == 0
                    ? $"The database has no Mailroom schema yet; create it with `mailroom db migrate` (schema version {CurrentVersion})."
                    : $"The database schema is version {version}, older than this Mailroom's {CurrentVersion}; run `mailroom db migrate` once, then start the nodes.");
        }
    }

    public static async Task<SchemaMigration> MigrateAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({MigrationLock});", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_utc timestamptz NOT NULL);", cancellationToken).ConfigureAwait(false);
        var version = await ReadVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        if (version > CurrentVersion)
        {
            Check(version);
        }

        for (var next = version + 1; next <= CurrentVersion; next++)
        {
            await ExecuteAsync(connection, transaction, Migrations[next - 1], cancellationToken).ConfigureAwait(false);
            await using var record = new NpgsqlCommand("INSERT INTO schema_version (version, applied_utc) VALUES (@version, now());", connection, transaction);
            record.Parameters.AddWithValue("version", next);
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new SchemaMigration(version, CurrentVersion);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
