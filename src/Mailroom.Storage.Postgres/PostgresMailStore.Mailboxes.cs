using Mailroom.Core.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Mailroom.Storage.Postgres;

/// <summary>What is in a mailbox, per-reader flags, rights, and the trash (<see cref="IMailboxStore"/>).</summary>
public sealed partial class PostgresMailStore
{
    public Task<IReadOnlyList<MailboxEntry>> ListMailboxAsync(long mailboxId, long readerAccountId, CancellationToken cancellationToken) =>
        QueryAsync(
            "listing a mailbox",
            """
            SELECT d.id, m.id, m.received_utc, m.sender, m.subject, m.size, COALESCE(f.read, false), COALESCE(f.important, false)
            FROM deliveries d
            JOIN messages m ON m.id = d.message_id
            LEFT JOIN delivery_flags f ON f.delivery_id = d.id AND f.account_id = @reader
            WHERE d.mailbox_id = @mailbox AND d.trashed_utc IS NULL
            ORDER BY m.received_utc, d.id;
            """,
            p =>
            {
                p.AddWithValue("mailbox", mailboxId);
                p.AddWithValue("reader", readerAccountId);
            },
            static r => new MailboxEntry(
                r.GetInt64(0),
                r.GetString(1),
                r.GetFieldValue<DateTimeOffset>(2),
                r.GetString(3),
                r.IsDBNull(4) ? null : r.GetString(4),
                r.GetInt64(5),
                r.GetBoolean(6),
                r.GetBoolean(7)),
            cancellationToken);

    public async Task<bool> SetFlagAsync(long mailboxId, long deliveryId, long readerAccountId, FlagKind flag, bool value, CancellationToken cancellationToken)
    {
        var column = flag switch
        {
            FlagKind.Read => "read",
            FlagKind.Important => "important",
            _ => throw new ArgumentOutOfRangeException(nameof(flag), flag, null),
        };

        // Only a message still in this mailbox (not trashed) can be flagged.
        return await ExecuteAsync(
            "setting a flag",
            $"""
            INSERT INTO delivery_flags (delivery_id, account_id, {column})
            SELECT d.id, @reader, @on FROM deliveries d
            WHERE d.id = @delivery AND d.mailbox_id = @mailbox AND d.trashed_utc IS NULL
            ON CONFLICT (delivery_id, account_id) DO UPDATE SET {column} = excluded.{column};
            """,
            p =>
            {
                p.AddWithValue("reader", readerAccountId);
                p.AddWithValue("on", value);
                p.AddWithValue("delivery", deliveryId);
                p.AddWithValue("mailbox", mailboxId);
            },
            cancellationToken).ConfigureAwait(false) > 0;
    }

    public Task<int> TrashAsync(long mailboxId, long? deliveryId, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "moving messages to the trash",
            $"""
            UPDATE deliveries SET trashed_utc = now()
            WHERE mailbox_id = @mailbox AND trashed_utc IS NULL {(deliveryId is null ? string.Empty : "AND id = @delivery")};
            """,
            p =>
            {
                p.AddWithValue("mailbox", mailboxId);
                if (deliveryId is not null)
                {
                    p.AddWithValue("delivery", deliveryId.Value);
                }
            },
            cancellationToken);

    public Task<int> RestoreAsync(long mailboxId, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "restoring messages from the trash",
            "UPDATE deliveries SET trashed_utc = NULL WHERE mailbox_id = @mailbox AND trashed_utc IS NOT NULL;",
            p => p.AddWithValue("mailbox", mailboxId),
            cancellationToken);

    public Task<int> PurgeTrashAsync(DateTimeOffset trashedBefore, CancellationToken cancellationToken) =>
        RemoveDeliveriesAsync("purging the trash", async (connection, transaction) =>
        {
            await using var delete = new NpgsqlCommand(
                "DELETE FROM deliveries WHERE trashed_utc IS NOT NULL AND trashed_utc < @before RETURNING message_id;",
                connection,
                transaction);
            delete.Parameters.AddWithValue("before", trashedBefore.ToUniversalTime());
            var messages = await ReadAllAsync(delete, static r => r.GetString(0), cancellationToken).ConfigureAwait(false);
            return (messages.Count, messages);
        }, cancellationToken);

    /// <summary>
    /// The one way messages leave the store: <paramref name="remove"/> deletes deliveries (or what
    /// holds them) and names the messages they held; each of those no delivery holds any more is
    /// deleted in the same transaction, its body rows with it (ON DELETE CASCADE). A message gains
    /// no delivery after its own commit, so "no delivery holds it" cannot change under us.
    /// </summary>
    private Task<T> RemoveDeliveriesAsync<T>(
        string operation,
        Func<NpgsqlConnection, NpgsqlTransaction, Task<(T Result, IReadOnlyList<string> Messages)>> remove,
        CancellationToken cancellationToken)
    {
        return InTransactionAsync(operation, async (connection, transaction) =>
        {
            var (value, messages) = await remove(connection, transaction).ConfigureAwait(false);
            if (messages.Count > 0)
            {
                await using var prune = new NpgsqlCommand(
                    "DELETE FROM messages m WHERE m.id = ANY (@ids) AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id);",
                    connection,
                    transaction);
                prune.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = messages.Distinct(StringComparer.Ordinal).ToArray() });
                await prune.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return value;
        }, cancellationToken);
    }

    public Task<MailboxRef> AddSharedMailboxAsync(string address, CancellationToken cancellationToken)
    {
        var normalized = NormalizeAddress(address, out var domain);
        return InTransactionAsync("adding a shared mailbox", async (connection, transaction) =>
        {
            await LockAddressAsync(connection, transaction, normalized, cancellationToken).ConfigureAwait(false);
            if (!await ExistsAsync(connection, transaction, "SELECT 1 FROM domains WHERE name = @value;", domain, cancellationToken).ConfigureAwait(false))
            {
                throw new DirectoryConflictException($"domain {domain} is not a local domain; add it with `mailroom domain add {domain}`");
            }

            if (await ExistsAsync(connection, transaction, "SELECT 1 FROM lists WHERE address = @value;", normalized, cancellationToken).ConfigureAwait(false))
            {
                throw new DirectoryConflictException($"{normalized} is a mailing list");
            }

            await using var insert = new NpgsqlCommand(
                "INSERT INTO mailboxes (address, name, account_id) VALUES (@address, @name, NULL) ON CONFLICT (address) DO NOTHING RETURNING id, address, name;",
                connection,
                transaction);
            insert.Parameters.AddWithValue("address", normalized);
            insert.Parameters.AddWithValue("name", InboxName);
            var rows = await ReadAllAsync(insert, ReadMailbox, cancellationToken).ConfigureAwait(false);
            return rows.Count > 0 ? rows[0] : throw new DirectoryConflictException($"{normalized} is already a mailbox");
        }, cancellationToken);
    }

    public Task<bool> RemoveSharedMailboxAsync(string address, CancellationToken cancellationToken)
    {
        var normalized = NormalizeAddress(address, out _);

        // Only a mailbox without an owner: a personal one goes with its account.
        return RemoveDeliveriesAsync("removing a shared mailbox", async (connection, transaction) =>
        {
            // As for an account (RemoveAccountAsync): deliveries in flight finish first, later ones find no mailbox.
            await using var lockMailbox = new NpgsqlCommand("SELECT id FROM mailboxes WHERE address = @address AND account_id IS NULL FOR UPDATE;", connection, transaction);
            lockMailbox.Parameters.AddWithValue("address", normalized);
            await lockMailbox.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

            await using var collect = new NpgsqlCommand(
                """
                DELETE FROM deliveries WHERE mailbox_id = (SELECT id FROM mailboxes WHERE address = @address AND account_id IS NULL)
                RETURNING message_id;
                """,
                connection,
                transaction);
            collect.Parameters.AddWithValue("address", normalized);
            var messages = await ReadAllAsync(collect, static r => r.GetString(0), cancellationToken).ConfigureAwait(false);

            await using var delete = new NpgsqlCommand("DELETE FROM mailboxes WHERE address = @address AND account_id IS NULL;", connection, transaction);
            delete.Parameters.AddWithValue("address", normalized);
            return (await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0, messages);
        }, cancellationToken);
    }

    public Task<IReadOnlyList<MailboxRef>> ListMailboxesAsync(CancellationToken cancellationToken) =>
        QueryAsync("listing mailboxes", "SELECT id, address, name FROM mailboxes ORDER BY address COLLATE \"C\";", null, ReadMailbox, cancellationToken);

    public Task SetRightsAsync(long mailboxId, long accountId, MailboxRights rights, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "setting rights",
            rights == MailboxRights.None
                ? "DELETE FROM mailbox_rights WHERE mailbox_id = @mailbox AND account_id = @account;"
                : """
                  INSERT INTO mailbox_rights (mailbox_id, account_id, rights) VALUES (@mailbox, @account, @rights)
                  ON CONFLICT (mailbox_id, account_id) DO UPDATE SET rights = excluded.rights;
                  """,
            p =>
            {
                p.AddWithValue("mailbox", mailboxId);
                p.AddWithValue("account", accountId);
                p.AddWithValue("rights", (int)rights);
            },
            cancellationToken);

    public async Task<MailboxRights> GetRightsAsync(long mailboxId, long accountId, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(
            "reading rights",
            """
            SELECT CASE WHEN mb.account_id = @account THEN 15 ELSE COALESCE(r.rights, 0) END
            FROM mailboxes mb LEFT JOIN mailbox_rights r ON r.mailbox_id = mb.id AND r.account_id = @account
            WHERE mb.id = @mailbox;
            """,
            p =>
            {
                p.AddWithValue("mailbox", mailboxId);
                p.AddWithValue("account", accountId);
            },
            static r => (MailboxRights)r.GetInt32(0),
            cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? MailboxRights.None : rows[0] & MailboxRights.All;
    }

    public Task<IReadOnlyList<MailboxGrant>> ListGrantsAsync(long mailboxId, CancellationToken cancellationToken) =>
        QueryAsync(
            "listing rights",
            """
            SELECT mb.address, a.address, r.rights FROM mailbox_rights r
            JOIN mailboxes mb ON mb.id = r.mailbox_id JOIN accounts a ON a.id = r.account_id
            WHERE r.mailbox_id = @mailbox ORDER BY a.address COLLATE "C";
            """,
            p => p.AddWithValue("mailbox", mailboxId),
            static r => new MailboxGrant(r.GetString(0), r.GetString(1), (MailboxRights)r.GetInt32(2)),
            cancellationToken);
}
