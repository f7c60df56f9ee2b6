using Mailroom.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Mailroom.Storage.Sqlite;

/// <summary>What is in a mailbox, per-reader flags, and the trash (<see cref="IMailboxStore"/>).</summary>
public sealed partial class SqliteMailStore
{
    public Task<IReadOnlyList<MailboxEntry>> ListMailboxAsync(long mailboxId, long readerAccountId, CancellationToken cancellationToken) =>
        QueryAsync(
            "listing a mailbox",
            """
            SELECT d.id, m.id, m.received_utc, m.sender, m.subject, m.size, COALESCE(f.read, 0), COALESCE(f.important, 0)
            FROM deliveries d
            JOIN messages m ON m.id = d.message_id
            LEFT JOIN delivery_flags f ON f.delivery_id = d.id AND f.account_id = $reader
            WHERE d.mailbox_id = $mailbox AND d.trashed_utc IS NULL
            ORDER BY m.received_utc, d.id;
            """,
            c =>
            {
                c.Parameters.AddWithValue("$mailbox", mailboxId);
                c.Parameters.AddWithValue("$reader", readerAccountId);
            },
            static r => new MailboxEntry(
                r.GetInt64(0),
                r.GetString(1),
                Time.Parse(r.GetString(2)),
                r.GetString(3),
                r.IsDBNull(4) ? null : r.GetString(4),
                r.GetInt64(5),
                r.GetInt64(6) != 0,
                r.GetInt64(7) != 0),
            cancellationToken);

    public Task<bool> SetFlagAsync(long mailboxId, long deliveryId, long readerAccountId, FlagKind flag, bool value, CancellationToken cancellationToken)
    {
        var column = flag switch
        {
            FlagKind.Read => "read",
            FlagKind.Important => "important",
            _ => throw new ArgumentOutOfRangeException(nameof(flag), flag, null),
        };
        return WriteAsync("setting a flag", async connection =>
        {
            // Only a message still in this mailbox (not trashed) can be flagged.
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                INSERT INTO delivery_flags (delivery_id, account_id, {column})
                SELECT d.id, $reader, $on FROM deliveries d
                WHERE d.id = $delivery AND d.mailbox_id = $mailbox AND d.trashed_utc IS NULL
                ON CONFLICT (delivery_id, account_id) DO UPDATE SET {column} = excluded.{column};
                """;
            command.Parameters.AddWithValue("$reader", readerAccountId);
            command.Parameters.AddWithValue("$on", value ? 1 : 0);
            command.Parameters.AddWithValue("$delivery", deliveryId);
            command.Parameters.AddWithValue("$mailbox", mailboxId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    public Task<int> TrashAsync(long mailboxId, long? deliveryId, CancellationToken cancellationToken) =>
        WriteAsync("moving messages to the trash", async connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                UPDATE deliveries SET trashed_utc = $now
                WHERE mailbox_id = $mailbox AND trashed_utc IS NULL {(deliveryId is null ? string.Empty : "AND id = $delivery")};
                """;
            command.Parameters.AddWithValue("$now", Time.Format(DateTimeOffset.UtcNow));
            command.Parameters.AddWithValue("$mailbox", mailboxId);
            if (deliveryId is not null)
            {
                command.Parameters.AddWithValue("$delivery", deliveryId.Value);
            }

            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public Task<int> RestoreAsync(long mailboxId, CancellationToken cancellationToken) =>
        WriteAsync("restoring messages from the trash", async connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE deliveries SET trashed_utc = NULL WHERE mailbox_id = $mailbox AND trashed_utc IS NOT NULL;";
            command.Parameters.AddWithValue("$mailbox", mailboxId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public async Task<int> PurgeTrashAsync(DateTimeOffset trashedBefore, CancellationToken cancellationToken)
    {
        var purged = await RemoveDeliveriesAsync("purging the trash", async (connection, transaction) =>
        {
            using var delete = connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM deliveries WHERE trashed_utc IS NOT NULL AND trashed_utc < $before RETURNING message_id;";
            delete.Parameters.AddWithValue("$before", Time.Format(trashedBefore));
            var messages = await ReadStringsAsync(delete, cancellationToken).ConfigureAwait(false);
            return (messages.Count, messages);
        }, cancellationToken).ConfigureAwait(false);

        // Bodies a crash left in messages/tmp: otherwise only the next open would find them. Best
        // effort, after the purge, so it never costs the purge its count (and its audit entry).
        SweepTemp(cancellationToken);
        return purged;
    }

    /// <summary>
    /// The one way messages leave the store: <paramref name="remove"/> deletes deliveries (or what
    /// holds them) in one write transaction and names the messages they held; each of those no
    /// delivery holds any more is deleted in the same transaction, and its body file after the
    /// commit, outside the write gate (a crash in between leaves files without rows, which cost
    /// disk space only).
    /// </summary>
    private Task<T> RemoveDeliveriesAsync<T>(
        string operation,
        Func<SqliteConnection, SqliteTransaction, Task<(T Result, IReadOnlyList<string> Messages)>> remove,
        CancellationToken cancellationToken)
    {
        return StorageFaults.RunAsync(operation, async () =>
        {
            var orphanedBodies = new List<string>();
            var result = await WriteAsync(operation, async connection =>
            {
                using var transaction = connection.BeginTransaction(deferred: false);
                var (value, messages) = await remove(connection, transaction).ConfigureAwait(false);
                foreach (var id in messages.Distinct(StringComparer.Ordinal))
                {
                    if (await DeleteIfUnheldAsync(connection, transaction, id, cancellationToken).ConfigureAwait(false) is { } body)
                    {
                        orphanedBodies.Add(body);
                    }
                }

                transaction.Commit();
                return value;
            }, cancellationToken).ConfigureAwait(false);

            // An inline body ('' for a path) went with its row.
            foreach (var body in orphanedBodies.Where(b => b.Length > 0))
            {
                File.Delete(_bodies.FullPath(body));
            }

            return result;
        });
    }

    private static async Task<IReadOnlyList<string>> ReadStringsAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var values = new List<string>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    /// <summary>Deletes a message no delivery holds any more; its body path, or null when it is still held.</summary>
    private static async Task<string?> DeleteIfUnheldAsync(SqliteConnection connection, SqliteTransaction transaction, string messageId, CancellationToken cancellationToken)
    {
        using var prune = connection.CreateCommand();
        prune.Transaction = transaction;
        prune.CommandText = """
            DELETE FROM messages WHERE id = $id AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = $id)
            RETURNING body_path;
            """;
        prune.Parameters.AddWithValue("$id", messageId);
        return await prune.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    public async Task<MailboxRef> AddSharedMailboxAsync(string address, CancellationToken cancellationToken)
    {
        var normalized = NormalizeAddress(address, out var domain);
        if (!await IsLocalDomainAsync(domain, cancellationToken).ConfigureAwait(false))
        {
            throw new DirectoryConflictException($"domain {domain} is not a local domain; add it with `mailroom domain add {domain}`");
        }

        if (await FindMailboxAsync(normalized, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new DirectoryConflictException($"{normalized} is already a mailbox");
        }

        if (await FindListAsync(normalized, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new DirectoryConflictException($"{normalized} is a mailing list");
        }

        return await EnsureSystemMailboxAsync(normalized, cancellationToken).ConfigureAwait(false);
    }

    public Task<bool> RemoveSharedMailboxAsync(string address, CancellationToken cancellationToken)
    {
        var normalized = NormalizeAddress(address, out _);

        // Only a mailbox without an owner: a personal one goes with its account.
        return RemoveDeliveriesAsync("removing a shared mailbox", async (connection, transaction) =>
        {
            using var collect = connection.CreateCommand();
            collect.Transaction = transaction;
            collect.CommandText = """
                DELETE FROM deliveries WHERE mailbox_id = (SELECT id FROM mailboxes WHERE address = $address AND account_id IS NULL)
                RETURNING message_id;
                """;
            collect.Parameters.AddWithValue("$address", normalized);
            var messages = await ReadStringsAsync(collect, cancellationToken).ConfigureAwait(false);

            using var delete = connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM mailboxes WHERE address = $address AND account_id IS NULL;";
            delete.Parameters.AddWithValue("$address", normalized);
            return (await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0, messages);
        }, cancellationToken);
    }

    public Task<IReadOnlyList<MailboxRef>> ListMailboxesAsync(CancellationToken cancellationToken) =>
        QueryAsync("listing mailboxes", "SELECT id, address, name FROM mailboxes ORDER BY address;", null, ReadMailbox, cancellationToken);

    public Task SetRightsAsync(long mailboxId, long accountId, MailboxRights rights, CancellationToken cancellationToken) =>
        WriteAsync("setting rights", async connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = rights == MailboxRights.None
                ? "DELETE FROM mailbox_rights WHERE mailbox_id = $mailbox AND account_id = $account;"
                : """
                  INSERT INTO mailbox_rights (mailbox_id, account_id, rights) VALUES ($mailbox, $account, $rights)
                  ON CONFLICT (mailbox_id, account_id) DO UPDATE SET rights = excluded.rights;
                  """;
            command.Parameters.AddWithValue("$mailbox", mailboxId);
            command.Parameters.AddWithValue("$account", accountId);
            command.Parameters.AddWithValue("$rights", (int)rights);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public async Task<MailboxRights> GetRightsAsync(long mailboxId, long accountId, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(
            "reading rights",
            """
            SELECT CASE WHEN mb.account_id = $account THEN 15 ELSE COALESCE(r.rights, 0) END
            FROM mailboxes mb LEFT JOIN mailbox_rights r ON r.mailbox_id = mb.id AND r.account_id = $account
            WHERE mb.id = $mailbox;
            """,
            c =>
            {
                c.Parameters.AddWithValue("$mailbox", mailboxId);
                c.Parameters.AddWithValue("$account", accountId);
            },
            static r => (MailboxRights)r.GetInt64(0),
            cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? MailboxRights.None : rows[0] & MailboxRights.All;
    }

    public Task<IReadOnlyList<MailboxGrant>> ListGrantsAsync(long mailboxId, CancellationToken cancellationToken) =>
        QueryAsync(
            "listing rights",
            """
            SELECT mb.address, a.address, r.rights FROM mailbox_rights r
            JOIN mailboxes mb ON mb.id = r.mailbox_id JOIN accounts a ON a.id = r.account_id
            WHERE r.mailbox_id = $mailbox ORDER BY a.address;
            """,
            c => c.Parameters.AddWithValue("$mailbox", mailboxId),
            static r => new MailboxGrant(r.GetString(0), r.GetString(1), (MailboxRights)r.GetInt64(2)),
            cancellationToken);
}
