using Mailroom.Core.Storage;

using Microsoft.Data.Sqlite;

namespace Mailroom.Storage.Sqlite;

/// <summary>
/// Versioned schema migrations. Each entry moves the database from version N-1 to N and is
/// applied in the same transaction that records N in <c>schema_version</c>, so a crash leaves
/// the database at a whole version. Migrations are append-only: never edit a shipped one.
/// </summary>
internal static class Schema
{
    private static readonly string[] Migrations =
    [
        // 1: directory and messages. Addresses and domain names are stored lower-cased by the
        // code (ToLowerInvariant), so plain UNIQUE constraints compare them case-insensitively.
        // Message bodies live in files (body_path, relative to the data folder), not in the DB.
        // Times are ISO 8601 UTC text of fixed width, so text order is time order.
        """
        CREATE TABLE domains (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_utc TEXT NOT NULL
        );

        CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            address TEXT NOT NULL UNIQUE,
            domain_id INTEGER NOT NULL REFERENCES domains (id) ON DELETE RESTRICT,
            password_hash TEXT NOT NULL,
            created_utc TEXT NOT NULL
        );
        CREATE INDEX accounts_domain ON accounts (domain_id);

        -- A personal mailbox belongs to an account; a system mailbox (postmaster) to none.
        CREATE TABLE mailboxes (
            id INTEGER PRIMARY KEY,
            address TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts (id) ON DELETE CASCADE
        );
        CREATE INDEX mailboxes_account ON mailboxes (account_id);

        CREATE TABLE messages (
            id TEXT PRIMARY KEY,
            sender TEXT NOT NULL,
            received_utc TEXT NOT NULL,
            size INTEGER NOT NULL,
            subject TEXT,
            body_path TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX messages_received ON messages (received_utc);

        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
            recipient TEXT NOT NULL,
            UNIQUE (message_id, mailbox_id)
        );
        CREATE INDEX deliveries_mailbox ON deliveries (mailbox_id);
        """,

        // 2: the trash and per-reader flags. A delivery with trashed_utc set is in the trash;
        // flags belong to (delivery, reader), so readers of a shared mailbox each have their own.
        """
        ALTER TABLE deliveries ADD COLUMN trashed_utc TEXT;
        CREATE INDEX deliveries_trashed ON deliveries (trashed_utc) WHERE trashed_utc IS NOT NULL;
        CREATE TABLE delivery_flags (
            delivery_id INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
            account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
            read INTEGER NOT NULL DEFAULT 0,
            important INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (delivery_id, account_id)
        ) WITHOUT ROWID;
        CREATE INDEX delivery_flags_account ON delivery_flags (account_id);
        """,

        // 3: rights on mailboxes that are not the user's own (shared mailboxes, postmaster),
        // a bit set after RFC 4314 (1 read, 2 mark, 4 delete, 8 administer).
        """
        CREATE TABLE mailbox_rights (
            mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
            account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
            rights INTEGER NOT NULL,
            PRIMARY KEY (mailbox_id, account_id)
        ) WITHOUT ROWID;
        CREATE INDEX mailbox_rights_account ON mailbox_rights (account_id);
        """,

        // 4: mailing lists. Members and allowed senders are addresses, stored lower-cased.
        """
        CREATE TABLE lists (
            id INTEGER PRIMARY KEY,
            address TEXT NOT NULL UNIQUE,
            policy TEXT NOT NULL,
            created_utc TEXT NOT NULL
        );
        CREATE TABLE list_members (
            list_id INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
            address TEXT NOT NULL,
            PRIMARY KEY (list_id, address)
        ) WITHOUT ROWID;
        CREATE TABLE list_senders (
            list_id INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
            address TEXT NOT NULL,
            PRIMARY KEY (list_id, address)
        ) WITHOUT ROWID;
        """,

        // 5: small bodies in the database. A body up to the store's inline limit is a row here
        // (its messages.body_path is ''), so the deliveries of many sessions commit together
        // with one fsync of the WAL instead of three fsyncs each for a file, its folder and tmp/.
        // A rowid table: WITHOUT ROWID suits small rows only.
        """
        CREATE TABLE message_bodies (
            message_id TEXT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
            body BLOB NOT NULL
        );
        """,

        // 6: secrets the server keeps across restarts, such as the key that derives the SCRAM
        // salt of an account that does not exist (IDirectoryStore.GetOrAddSecretAsync).
        """
        CREATE TABLE server_secrets (
            name TEXT PRIMARY KEY,
            value BLOB NOT NULL
        ) WITHOUT ROWID;
        """,
    ];

    public static int CurrentVersion => Migrations.Length;

    public static async Task<SchemaMigration> MigrateAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        // BEGIN IMMEDIATE: two processes opening a fresh database at once migrate one after the other.
        using var transaction = connection.BeginTransaction(deferred: false);
        await ExecuteAsync(connection, transaction, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_utc TEXT NOT NULL);", cancellationToken).ConfigureAwait(false);

        using var read = connection.CreateCommand();
        read.Transaction = transaction;
        read.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_version;";
        var version = Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        if (version > CurrentVersion)
        {
            throw new SchemaVersionException(
                version,
                CurrentVersion,
                $"The database schema is version {version}, but this Mailroom knows versions up to {CurrentVersion}; upgrade Mailroom to open it.");
        }

        for (var next = version + 1; next <= CurrentVersion; next++)
        {
            await ExecuteAsync(connection, transaction, Migrations[next - 1], cancellationToken).ConfigureAwait(false);
            using var record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = "INSERT INTO schema_version (version, applied_utc) VALUES ($version, $now);";
            record.Parameters.AddWithValue("$version", next);
            record.Parameters.AddWithValue("$now", Time.Format(DateTimeOffset.UtcNow));
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        transaction.Commit();
        return new SchemaMigration(version, CurrentVersion);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
