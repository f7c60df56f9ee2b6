using System.Globalization;
using Mailroom.Core.Storage;

namespace Mailroom.Storage.Sqlite;

/// <summary>Mailing lists (<see cref="IListStore"/>).</summary>
public sealed partial class SqliteMailStore
{
    public async Task<MailingList> AddListAsync(string address, PostingPolicy policy, CancellationToken cancellationToken)
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

        await WriteAsync("adding a list", async connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO lists (address, policy, created_utc) VALUES ($address, $policy, $now) ON CONFLICT (address) DO NOTHING;";
            command.Parameters.AddWithValue("$address", normalized);
            command.Parameters.AddWithValue("$policy", policy.ToString());
            command.Parameters.AddWithValue("$now", Time.Format(DateTimeOffset.UtcNow));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0
                ? true
                : throw new DirectoryConflictException($"list {normalized} already exists");
        }, cancellationToken).ConfigureAwait(false);
        return (await FindListAsync(normalized, cancellationToken).ConfigureAwait(false))!;
    }

    public Task<bool> RemoveListAsync(string address, CancellationToken cancellationToken)
    {
        var normalized = Normalize(address);
        return WriteAsync("removing a list", async connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM lists WHERE address = $address;";
            command.Parameters.AddWithValue("$address", normalized);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    public async Task<MailingList?> FindListAsync(string address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var rows = await QueryAsync(
            "looking up a list",
            "SELECT id, address, policy FROM lists WHERE address = $address;",
            c => c.Parameters.AddWithValue("$address", Normalize(address)),
            static r => (Id: r.GetInt64(0), Address: r.GetString(1), Policy: Enum.Parse<PostingPolicy>(r.GetString(2))),
            cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : await CompleteAsync(rows[0].Id, rows[0].Address, rows[0].Policy, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<MailingList>> ListListsAsync(CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(
            "listing lists",
            "SELECT id, address, policy FROM lists ORDER BY address;",
            null,
            static r => (Id: r.GetInt64(0), Address: r.GetString(1), Policy: Enum.Parse<PostingPolicy>(r.GetString(2))),
            cancellationToken).ConfigureAwait(false);
        var lists = new List<MailingList>();
        foreach (var (id, address, policy) in rows)
        {
            lists.Add(await CompleteAsync(id, address, policy, cancellationToken).ConfigureAwait(false));
        }

        return lists;
    }

    public Task<bool> SetListMemberAsync(string list, string member, bool add, CancellationToken cancellationToken) =>
        SetListAddressAsync("list_members", list, member, add, cancellationToken);

    public Task<bool> SetListSenderAsync(string list, string sender, bool add, CancellationToken cancellationToken) =>
        SetListAddressAsync("list_senders", list, sender, add, cancellationToken);

    private async Task<bool> SetListAddressAsync(string table, string list, string address, bool add, CancellationToken cancellationToken)
    {
        var normalized = NormalizeAddress(address, out _);
        var found = await FindListAsync(list, cancellationToken).ConfigureAwait(false)
            ?? throw new DirectoryConflictException($"no such list: {Normalize(list)}");
        return await WriteAsync("changing a list", async connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = add
                ? string.Create(CultureInfo.InvariantCulture, $"INSERT INTO {table} (list_id, address) VALUES ($list, $address) ON CONFLICT DO NOTHING;")
                : string.Create(CultureInfo.InvariantCulture, $"DELETE FROM {table} WHERE list_id = $list AND address = $address;");
            command.Parameters.AddWithValue("$list", found.Id);
            command.Parameters.AddWithValue("$address", normalized);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task<MailingList> CompleteAsync(long id, string address, PostingPolicy policy, CancellationToken cancellationToken)
    {
        var members = await QueryAsync("reading a list", "SELECT address FROM list_members WHERE list_id = $id ORDER BY address;", c => c.Parameters.AddWithValue("$id", id), static r => r.GetString(0), cancellationToken).ConfigureAwait(false);
        var senders = await QueryAsync("reading a list", "SELECT address FROM list_senders WHERE list_id = $id ORDER BY address;", c => c.Parameters.AddWithValue("$id", id), static r => r.GetString(0), cancellationToken).ConfigureAwait(false);
        return new MailingList(id, address, policy, members, senders);
    }
}
