using Mailroom.Core.Storage;
using Npgsql;

namespace Mailroom.Storage.Postgres;

/// <summary>Domains, accounts and mailboxes (<see cref="IDirectoryStore"/>).</summary>
public sealed partial class PostgresMailStore
{
    public async Task<bool> AddDomainAsync(string domain, CancellationToken cancellationToken)
    {
        var name = NormalizeDomain(domain);
        return await ExecuteAsync(
            "adding a domain",
            "INSERT INTO domains (name, created_utc) VALUES (@name, now()) ON CONFLICT (name) DO NOTHING;",
            p => p.AddWithValue("name", name),
            cancellationToken).ConfigureAwait(false) > 0;
    }

    public Task<bool> RemoveDomainAsync(string domain, CancellationToken cancellationToken)
    {
        var name = NormalizeDomain(domain);
        return InTransactionAsync("removing a domain", async (connection, transaction) =>
        {
            // FOR UPDATE: an account added on another node meanwhile waits for this, then finds no domain.
            await using var find = new NpgsqlCommand("SELECT id FROM domains WHERE name = @name FOR UPDATE;", connection, transaction);
            find.Parameters.AddWithValue("name", name);
            if (await find.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not long id)
            {
                return false;
            }

            await using var count = new NpgsqlCommand("SELECT COUNT(*) FROM accounts WHERE domain_id = @id;", connection, transaction);
            count.Parameters.AddWithValue("id", id);
            var accounts = (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            if (accounts > 0)
            {
                throw new DirectoryConflictException(
                    $"domain {name} still has {accounts} account(s); remove them first with `mailroom user remove`");
            }

            await using var delete = new NpgsqlCommand("DELETE FROM domains WHERE id = @id;", connection, transaction);
            delete.Parameters.AddWithValue("id", id);
            return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<string>> ListDomainsAsync(CancellationToken cancellationToken) =>
        QueryAsync("listing domains", "SELECT name FROM domains ORDER BY name COLLATE \"C\";", null, static r => r.GetString(0), cancellationToken);

    public async Task<bool> IsLocalDomainAsync(string domain, CancellationToken cancellationToken)
    {
        var name = NormalizeDomain(domain);
        var rows = await QueryAsync(
            "looking up a domain",
            "SELECT 1 FROM domains WHERE name = @name;",
            p => p.AddWithValue("name", name),
            static _ => true,
            cancellationToken).ConfigureAwait(false);
        return rows.Count > 0;
    }

    public Task<Account> AddAccountAsync(string address, string passwordHash, CancellationToken cancellationToken)
    {
        var normalized = NormalizeAddress(address, out var domain);
        ArgumentException.ThrowIfNullOrEmpty(passwordHash);
        return InTransactionAsync("adding an account", async (connection, transaction) =>
        {
            await LockAddressAsync(connection, transaction, normalized, cancellationToken).ConfigureAwait(false);
            if (await ExistsAsync(connection, transaction, "SELECT 1 FROM lists WHERE address = @value;", normalized, cancellationToken).ConfigureAwait(false))
            {
                throw new DirectoryConflictException($"{normalized} is a mailing list");
            }

            // FOR SHARE: the domain cannot be removed by another node before this commits.
            await using var findDomain = new NpgsqlCommand("SELECT id FROM domains WHERE name = @name FOR SHARE;", connection, transaction);
            findDomain.Parameters.AddWithValue("name", domain);
            if (await findDomain.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not long domainId)
            {
                throw new DirectoryConflictException(
                    $"domain {domain} is not a local domain; add it with `mailroom domain add {domain}`");
            }

            // ON CONFLICT DO NOTHING rather than catching the unique violation: a failed
            // statement would abort the transaction, and this one has more to do.
            await using var insert = new NpgsqlCommand(
                """
                INSERT INTO accounts (address, domain_id, password_hash, created_utc)
                VALUES (@address, @domain, @hash, now()) ON CONFLICT (address) DO NOTHING
                RETURNING id, created_utc;
                """,
                connection,
                transaction);
            insert.Parameters.AddWithValue("address", normalized);
            insert.Parameters.AddWithValue("domain", domainId);
            insert.Parameters.AddWithValue("hash", passwordHash);
            long accountId;
            DateTimeOffset created;
            await using (var reader = await insert.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    throw new DirectoryConflictException($"account {normalized} already exists");
                }

                accountId = reader.GetInt64(0);
                created = reader.GetFieldValue<DateTimeOffset>(1);
            }

            await using var mailbox = new NpgsqlCommand(
                "INSERT INTO mailboxes (address, name, account_id) VALUES (@address, @name, @account) ON CONFLICT (address) DO NOTHING;",
                connection,
                transaction);
            mailbox.Parameters.AddWithValue("address", normalized);
            mailbox.Parameters.AddWithValue("name", InboxName);
            mailbox.Parameters.AddWithValue("account", accountId);
            if (await mailbox.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                throw new DirectoryConflictException($"address {normalized} is already used by a shared or system mailbox");
            }

            return new Account(accountId, normalized, passwordHash, created);
        }, cancellationToken);
    }

    public async Task<bool> SetPasswordHashAsync(string address, string passwordHash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentException.ThrowIfNullOrEmpty(passwordHash);
        var normalized = Normalize(address);
        return await ExecuteAsync(
            "changing a password",
            "UPDATE accounts SET password_hash = @hash WHERE address = @address;",
            p =>
            {
                p.AddWithValue("hash", passwordHash);
                p.AddWithValue("address", normalized);
            },
            cancellationToken).ConfigureAwait(false) > 0;
    }

    public Task<bool> RemoveAccountAsync(string address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var normalized = Normalize(address);

        // The cascade from accounts removes its mailboxes, their deliveries, flags and rights;
        // the messages those deliveries held go too (bodies with them) when nothing else holds them.
        return RemoveDeliveriesAsync("removing an account", async (connection, transaction) =>
        {
            // FOR UPDATE conflicts with the FOR KEY SHARE a delivery's foreign key takes on its
            // mailbox: deliveries in flight on other nodes commit first and are collected below;
            // later ones wait, then find no mailbox. Otherwise a delivery committed between the
            // collect and the delete would leave its message behind, held by nothing.
            await using var lockMailboxes = new NpgsqlCommand(
                "SELECT mb.id FROM mailboxes mb JOIN accounts a ON a.id = mb.account_id WHERE a.address = @address FOR UPDATE OF mb;",
                connection,
                transaction);
            lockMailboxes.Parameters.AddWithValue("address", normalized);
            await lockMailboxes.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

            await using var collect = new NpgsqlCommand(
                """
                SELECT DISTINCT d.message_id FROM deliveries d
                JOIN mailboxes mb ON mb.id = d.mailbox_id
                JOIN accounts a ON a.id = mb.account_id
                WHERE a.address = @address;
                """,
                connection,
                transaction);
            collect.Parameters.AddWithValue("address", normalized);
            var messages = await ReadAllAsync(collect, static r => r.GetString(0), cancellationToken).ConfigureAwait(false);

            await using var delete = new NpgsqlCommand("DELETE FROM accounts WHERE address = @address;", connection, transaction);
            delete.Parameters.AddWithValue("address", normalized);
            return (await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0, messages);
        }, cancellationToken);
    }

    public async Task<Account?> FindAccountAsync(string address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var normalized = Normalize(address);
        var rows = await QueryAsync(
            "looking up an account",
            "SELECT id, address, password_hash, created_utc FROM accounts WHERE address = @address;",
            p => p.AddWithValue("address", normalized),
            ReadAccount,
            cancellationToken).ConfigureAwait(false);
        return rows.Count > 0 ? rows[0] : null;
    }

    public Task<IReadOnlyList<Account>> ListAccountsAsync(CancellationToken cancellationToken) =>
        QueryAsync("listing accounts", "SELECT id, address, password_hash, created_utc FROM accounts ORDER BY address COLLATE \"C\";", null, ReadAccount, cancellationToken);

    public async Task<MailboxRef?> FindMailboxAsync(string address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var normalized = Normalize(address);
        var rows = await QueryAsync(
            "looking up a mailbox",
            "SELECT id, address, name FROM mailboxes WHERE address = @address;",
            p => p.AddWithValue("address", normalized),
            ReadMailbox,
            cancellationToken).ConfigureAwait(false);
        return rows.Count > 0 ? rows[0] : null;
    }

    public async Task<MailboxRef> EnsureSystemMailboxAsync(string address, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        var normalized = Normalize(address);

        // Almost always there already: look it up first, and write only when it is missing.
        return await FindMailboxAsync(normalized, cancellationToken).ConfigureAwait(false)
            ?? await InTransactionAsync("creating a system mailbox", async (connection, transaction) =>
            {
                // Two nodes racing to create it both end up with the one row.
                await using var command = new NpgsqlCommand(
                    """
                    INSERT INTO mailboxes (address, name, account_id) VALUES (@address, @name, NULL) ON CONFLICT (address) DO NOTHING;
                    SELECT id, address, name FROM mailboxes WHERE address = @address;
                    """,
                    connection,
                    transaction);
                command.Parameters.AddWithValue("address", normalized);
                command.Parameters.AddWithValue("name", InboxName);
                var rows = await ReadAllAsync(command, ReadMailbox, cancellationToken).ConfigureAwait(false);
                return rows.Count > 0 ? rows[0] : throw new StorageException($"system mailbox {normalized} vanished while it was created");
            }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]> GetOrAddSecretAsync(string name, byte[] candidate, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(candidate);

        // Almost always there already: read it, and write only when it is missing, so a
        // database that takes no writes still answers.
        var stored = await QueryAsync(
            "reading a server secret",
            "SELECT value FROM server_secrets WHERE name = @name;",
            p => p.AddWithValue("name", name),
            static r => r.GetFieldValue<byte[]>(0),
            cancellationToken).ConfigureAwait(false);
        if (stored.Count > 0)
        {
            return stored[0];
        }

        return await InTransactionAsync("storing a server secret", async (connection, transaction) =>
        {
            // Under READ COMMITTED, as everywhere in this store, each statement sees what
            // committed before it began: a node that loses the race waits for the winner's row
            // at the INSERT, then reads it.
            await using var command = new NpgsqlCommand(
                """
                INSERT INTO server_secrets (name, value) VALUES (@name, @value) ON CONFLICT (name) DO NOTHING;
                SELECT value FROM server_secrets WHERE name = @name;
                """,
                connection,
                transaction);
            command.Parameters.AddWithValue("name", name);
            command.Parameters.AddWithValue("value", candidate);
            var rows = await ReadAllAsync(command, static r => r.GetFieldValue<byte[]>(0), cancellationToken).ConfigureAwait(false);
            return rows.Count > 0 ? rows[0] : throw new StorageException($"server secret {name} vanished while it was stored");
        }, cancellationToken).ConfigureAwait(false);
    }

    private static Account ReadAccount(NpgsqlDataReader reader) =>
        new(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3));

    private static MailboxRef ReadMailbox(NpgsqlDataReader reader) =>
        new(reader.GetInt64(0), reader.GetString(1), reader.GetString(2));
}
