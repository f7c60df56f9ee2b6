using Mailroom.Core.Storage;
using Npgsql;

namespace Mailroom.Storage.Postgres;

/// <summary>Mailing lists (<see cref="IListStore"/>).</summary>
public sealed partial class PostgresMailStore
{
    public async Task<MailingList> AddListAsync(string address, PostingPolicy policy, CancellationToken cancellationToken)
    {
        var normalized = NormalizeAddress(address, out var domain);
        await InTransactionAsync("adding a list", async (connection, transaction) =>
        {
            await LockAddressAsync(connection, transaction, normalized, cancellationToken).ConfigureAwait(false);
            if (!await ExistsAsync(connection, transaction, "SELECT 1 FROM domains WHERE name = @value;", domain, cancellationToken).ConfigureAwait(false))
            {
                throw new DirectoryConflictException($"domain {domain} is not a local domain; add it with `mailroom domain add {domain}`");
            }

            if (await ExistsAsync(connection, transaction, "SELECT 1 FROM mailboxes WHERE address = @value;", normalized, cancellationToken).ConfigureAwait(false))
            {
                throw new DirectoryConflictException($"{normalized} is already a mailbox");
            }

            await using var insert = new NpgsqlCommand(
                "INSERT INTO lists (address, policy, created_utc) VALUES (@address, @policy, now()) ON CONFLICT (address) DO NOTHING;",
                connection,
                transaction);
            insert.Parameters.AddWithValue("address", normalized);
            insert.Parameters.AddWithValue("policy", policy.ToString());
            return await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0
                ? true
                : throw new DirectoryConflictException($"list {normalized} already exists");
        }, cancellationToken).ConfigureAwait(false);

        return await FindListAsync(normalized, cancellationToken).ConfigureAwait(false)
            ?? throw new DirectoryConflictException($"list {normalized} was removed while it was added");
    }

    public async Task<bool> RemoveListAsync(string address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var normalized = Normalize(address);
        return await ExecuteAsync(
            "removing a list",
            "DELETE FROM lists WHERE address = @address;",
            p => p.AddWithValue("address", normalized),
            cancellationToken).ConfigureAwait(false) > 0;
    }

    public async Task<MailingList?> FindListAsync(string address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var lists = await ReadListsAsync("looking up a list", "WHERE l.address = @address", p => p.AddWithValue("address", Normalize(address)), cancellationToken).ConfigureAwait(false);
        return lists.Count == 0 ? null : lists[0];
    }

    public Task<IReadOnlyList<MailingList>> ListListsAsync(CancellationToken cancellationToken) =>
        ReadListsAsync("listing lists", string.Empty, null, cancellationToken);

    public Task<bool> SetListMemberAsync(string list, string member, bool add, CancellationToken cancellationToken) =>
        SetListAddressAsync("list_members", list, member, add, cancellationToken);

    public Task<bool> SetListSenderAsync(string list, string sender, bool add, CancellationToken cancellationToken) =>
        SetListAddressAsync("list_senders", list, sender, add, cancellationToken);

    private Task<bool> SetListAddressAsync(string table, string list, string address, bool add, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(list);
        var normalized = NormalizeAddress(address, out _);
        var listAddress = Normalize(list);
        return InTransactionAsync("changing a list", async (connection, transaction) =>
        {
            // FOR SHARE: a removal of the list on another node waits for this, rather than this
            // failing on the foreign key half-way.
            await using var find = new NpgsqlCommand("SELECT id FROM lists WHERE address = @list FOR SHARE;", connection, transaction);
            find.Parameters.AddWithValue("list", listAddress);
            if (await find.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not long listId)
            {
                throw new DirectoryConflictException($"no such list: {listAddress}");
            }

            await using var change = new NpgsqlCommand(
                add
                    ? $"INSERT INTO {table} (list_id, address) VALUES (@list, @address) ON CONFLICT DO NOTHING;"
                    : $"DELETE FROM {table} WHERE list_id = @list AND address = @address;",
                connection,
                transaction);
            change.Parameters.AddWithValue("list", listId);
            change.Parameters.AddWithValue("address", normalized);
            return await change.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    /// <summary>Lists with their members and senders, in one query (array_agg), so a list is read as of one moment.</summary>
    private Task<IReadOnlyList<MailingList>> ReadListsAsync(string operation, string where, Action<NpgsqlParameterCollection>? bind, CancellationToken cancellationToken) =>
        QueryAsync(
            operation,
            $"""
            SELECT l.id, l.address, l.policy,
                   ARRAY(SELECT m.address FROM list_members m WHERE m.list_id = l.id ORDER BY m.address COLLATE "C"),
                   ARRAY(SELECT s.address FROM list_senders s WHERE s.list_id = l.id ORDER BY s.address COLLATE "C")
            FROM lists l {where}
            ORDER BY l.address COLLATE "C";
            """,
            bind,
            static r => new MailingList(
                r.GetInt64(0),
                r.GetString(1),
                Enum.Parse<PostingPolicy>(r.GetString(2)),
                r.GetFieldValue<string[]>(3),
                r.GetFieldValue<string[]>(4)),
            cancellationToken);
}
