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

    public Task<int> PurgeTrashAsync(DateTimeOffset trashedBefore, CancellationToken cancellationToken)
    {
        return StorageFaults.RunAsync("purging the trash", async () =>
        {
            var orphanedBodies = new List<string>();
            var purged = await WriteAsync("purging the trash", async connection =>
            {
                using var transaction = connection.BeginTransaction(deferred: false);
                using var delete = connection.CreateCommand();
                delete.Transaction = transaction;
                delete.CommandText = "DELETE FROM deliveries WHERE trashed_utc IS NOT NULL AND trashed_utc < $before RETURNING message_id;";
                delete.Parameters.AddWithValue("$before", Time.Format(trashedBefore));
                var touched = new HashSet<string>(StringComparer.Ordinal);
                using (var reader = await delete.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        touched.Add(reader.GetString(0));
                    }
                }

                var count = 0;
                foreach (var id in touched)
                {
                    count++;
                    var body = await DeleteIfUnheldAsync(connection, transaction, id, cancellationToken).ConfigureAwait(false);
                    if (body is not null)
                    {
                        orphanedBodies.Add(body);
                    }
                }

                transaction.Commit();
                return touched.Count == 0 ? 0 : count;
            }, cancellationToken).ConfigureAwait(false);

            // After the commit, as for a removed account: a crash in between leaves files without rows.
            foreach (var body in orphanedBodies)
            {
                File.Delete(_bodies.FullPath(body));
            }

            return purged;
        });
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
}
