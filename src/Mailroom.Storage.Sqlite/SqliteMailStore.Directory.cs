using Mailroom.Core.Storage;

using Microsoft.Data.Sqlite;

namespace Mailroom.Storage.Sqlite;

/// <summary>Domains, accounts and mailboxes (<see cref="IDirectoryStore"/>).</summary>
public sealed partial class SqliteMailStore
{
    public const string InboxName = "INBOX";

    public Task<bool> AddDomainAsync(string domain, CancellationToken cancellationToken)
    {
        var name = NormalizeDomain(domain);
        return WriteAsync("adding a domain", async connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT OR IGNORE INTO domains (name, created_utc) VALUES ($name, $now);";
            command.Parameters.AddWithValue("$name", name);
            command.Parameters.AddWithValue("$now", Time.Format(DateTimeOffset.UtcNow));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    public Task<bool> RemoveDomainAsync(string domain, CancellationToken cancellationToken)
    {
        var name = NormalizeDomain(domain);
        return WriteAsync("removing a domain", async connection =>
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            using var count = connection.CreateCommand();
            count.Transaction = transaction;
            count.CommandText = "SELECT COUNT(*) FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE d.name = $name;";
            count.Parameters.AddWithValue("$name", name);
            var accounts = (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            if (accounts > 0)
            {
                throw new DirectoryConflictException(
                    $"domain {name} still has {accounts} account(s); remove them first with `mailroom user remove`");
            }

            using var delete = connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM domains WHERE name = $name;";
            delete.Parameters.AddWithValue("$name", name);
            var removed = await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
            transaction.Commit();
            return removed;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<string>> ListDomainsAsync(CancellationToken cancellationToken) =>
        QueryAsync("listing domains", "SELECT name FROM domains ORDER BY name;", null, static r => r.GetString(0), cancellationToken);

    public async Task<bool> IsLocalDomainAsync(string domain, CancellationToken cancellationToken)
    {
        var name = NormalizeDomain(domain);
        var rows = await QueryAsync(
            "looking up a domain",
            "SELECT 1 FROM domains WHERE name = $name;",
            c => c.Parameters.AddWithValue("$name", name),
            static _ => true,
            cancellationToken).ConfigureAwait(false);
        return rows.Count > 0;
    }

    public Task<Account> AddAccountAsync(string address, string passwordHash, CancellationToken cancellationToken)
    {
        var normalized = NormalizeAddress(address, out var domain);
        ArgumentException.ThrowIfNullOrEmpty(passwordHash);
        return WriteAsync("adding an account", async connection =>
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            using var findDomain = connection.CreateCommand();
            findDomain.Transaction = transaction;
            findDomain.CommandText = "SELECT id FROM domains WHERE name = $name;";
            findDomain.Parameters.AddWithValue("$name", domain);
            using var findList = connection.CreateCommand();
            findList.Transaction = transaction;
            findList.CommandText = "SELECT 1 FROM lists WHERE address = $address;";
            findList.Parameters.AddWithValue("$address", normalized);
            if (await findList.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null)
            {
                throw new DirectoryConflictException($"{normalized} is a mailing list");
            }

            if (await findDomain.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not long domainId)
            {
                throw new DirectoryConflictException(
                    $"domain {domain} is not a local domain; add it with `mailroom domain add {domain}`");
            }

            var created = DateTimeOffset.UtcNow;
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO accounts (address, domain_id, password_hash, created_utc)
                VALUES ($address, $domain, $hash, $now) RETURNING id;
                """;
            insert.Parameters.AddWithValue("$address", normalized);
            insert.Parameters.AddWithValue("$domain", domainId);
            insert.Parameters.AddWithValue("$hash", passwordHash);
            insert.Parameters.AddWithValue("$now", Time.Format(created));
            var accountId = await ExecuteUniqueAsync(insert, $"account {normalized} already exists", cancellationToken).ConfigureAwait(false);

            using var mailbox = connection.CreateCommand();
            mailbox.Transaction = transaction;
            mailbox.CommandText = "INSERT INTO mailboxes (address, name, account_id) VALUES ($address, $name, $account) RETURNING id;";
            mailbox.Parameters.AddWithValue("$address", normalized);
            mailbox.Parameters.AddWithValue("$name", InboxName);
            mailbox.Parameters.AddWithValue("$account", accountId);
            _ = await ExecuteUniqueAsync(mailbox, $"address {normalized} is already used by a system mailbox", cancellationToken).ConfigureAwait(false);

            transaction.Commit();
            return new Account(accountId, normalized, passwordHash, Time.Parse(Time.Format(created)));
        }, cancellationToken);
    }

    public Task<bool> SetPasswordHashAsync(string address, string passwordHash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentException.ThrowIfNullOrEmpty(passwordHash);
        var normalized = Normalize(address);
        return WriteAsync("changing a password", async connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE accounts SET password_hash = $hash WHERE address = $address;";
            command.Parameters.AddWithValue("$hash", passwordHash);
            command.Parameters.AddWithValue("$address", normalized);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    public Task<bool> RemoveAccountAsync(string address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var normalized = Normalize(address);

        // The cascade from accounts removes its mailboxes, their deliveries, flags and rights;
        // the messages those deliveries held go too when nothing else holds them.
        return RemoveDeliveriesAsync("removing an account", async (connection, transaction) =>
        {
            using var collect = connection.CreateCommand();
            collect.Transaction = transaction;
            collect.CommandText = """
                SELECT DISTINCT d.message_id FROM deliveries d
                JOIN mailboxes mb ON mb.id = d.mailbox_id
                JOIN accounts a ON a.id = mb.account_id
                WHERE a.address = $address;
                """;
            collect.Parameters.AddWithValue("$address", normalized);
            var messages = await ReadStringsAsync(collect, cancellationToken).ConfigureAwait(false);

            using var delete = connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM accounts WHERE address = $address;";
            delete.Parameters.AddWithValue("$address", normalized);
            return (await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0, messages);
        }, cancellationToken);
    }

    public Task<Account?> FindAccountAsync(string address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var normalized = Normalize(address);
        return StorageFaults.RunAsync("looking up an account", async () =>
        {
            var rows = await QueryAsync(
                "looking up an account",
                "SELECT id, address, password_hash, created_utc FROM accounts WHERE address = $address;",
                c => c.Parameters.AddWithValue("$address", normalized),
                ReadAccount,
                cancellationToken).ConfigureAwait(false);
            return rows.Count > 0 ? rows[0] : null;
        });
    }

    public Task<IReadOnlyList<Account>> ListAccountsAsync(CancellationToken cancellationToken) =>
        QueryAsync("listing accounts", "SELECT id, address, password_hash, created_utc FROM accounts ORDER BY address;", null, ReadAccount, cancellationToken);

    public Task<MailboxRef?> FindMailboxAsync(string address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var normalized = Normalize(address);
        return StorageFaults.RunAsync("looking up a mailbox", async () =>
        {
            var rows = await QueryAsync(
                "looking up a mailbox",
                "SELECT id, address, name FROM mailboxes WHERE address = $address;",
                c => c.Parameters.AddWithValue("$address", normalized),
                ReadMailbox,
                cancellationToken).ConfigureAwait(false);
            return rows.Count > 0 ? rows[0] : null;
        });
    }

    public async Task<MailboxRef> EnsureSystemMailboxAsync(string address, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        var normalized = Normalize(address);

        // Every RCPT TO:<postmaster> lands here, and the mailbox almost always exists: look it up
        // without the write gate or SQLite's write lock, and write only when it is missing.
        return await FindMailboxAsync(normalized, cancellationToken).ConfigureAwait(false)
            ?? await CreateSystemMailboxAsync(normalized, cancellationToken).ConfigureAwait(false);
    }

    private Task<MailboxRef> CreateSystemMailboxAsync(string normalized, CancellationToken cancellationToken)
    {
        return WriteAsync("creating a system mailbox", async connection =>
        {
            // INSERT OR IGNORE then SELECT: two processes racing to create it both end up
            // with the one row.
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT OR IGNORE INTO mailboxes (address, name, account_id) VALUES ($address, $name, NULL);
                SELECT id, address, name FROM mailboxes WHERE address = $address;
                """;
            command.Parameters.AddWithValue("$address", normalized);
            command.Parameters.AddWithValue("$name", InboxName);
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? ReadMailbox(reader)
                : throw new StorageException($"system mailbox {normalized} vanished while it was created");
        }, cancellationToken);
    }

    public async Task<byte[]> GetOrAddSecretAsync(string name, byte[] candidate, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(candidate);
        var stored = await QueryAsync(
            "reading a server secret",
            "SELECT value FROM server_secrets WHERE name = $name;",
            c => c.Parameters.AddWithValue("$name", name),
            static r => r.GetFieldValue<byte[]>(0),
            cancellationToken).ConfigureAwait(false);
        if (stored.Count > 0)
        {
            return stored[0];
        }

        // Missing: only now the write gate and SQLite's write lock.
        return await WriteAsync("storing a server secret", async connection =>
        {
            // INSERT OR IGNORE then SELECT: two processes racing both end up with the first one's.
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT OR IGNORE INTO server_secrets (name, value) VALUES ($name, $value);
                SELECT value FROM server_secrets WHERE name = $name;
                """;
            command.Parameters.AddWithValue("$name", name);
            command.Parameters.AddWithValue("$value", candidate);
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? reader.GetFieldValue<byte[]>(0)
                : throw new StorageException($"server secret {name} vanished while it was stored");
        }, cancellationToken).ConfigureAwait(false);
    }

    private static Account ReadAccount(SqliteDataReader reader) =>
        new(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), Time.Parse(reader.GetString(3)));

    private static MailboxRef ReadMailbox(SqliteDataReader reader) =>
        new(reader.GetInt64(0), reader.GetString(1), reader.GetString(2));

    private static async Task<long> ExecuteUniqueAsync(SqliteCommand command, string conflict, CancellationToken cancellationToken)
    {
        try
        {
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        catch (SqliteException exception) when (StorageFaults.IsUniqueViolation(exception))
        {
            throw new DirectoryConflictException(conflict, exception);
        }
    }

    private async Task<IReadOnlyList<T>> QueryAsync<T>(
        string operation,
        string sql,
        Action<SqliteCommand>? bind,
        Func<SqliteDataReader, T> read,
        CancellationToken cancellationToken)
    {
        return await StorageFaults.RunAsync(operation, async () =>
        {
            var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                using var command = connection.CreateCommand();
                command.CommandText = sql;
                bind?.Invoke(command);
                using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                var rows = new List<T>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    rows.Add(read(reader));
                }

                return (IReadOnlyList<T>)rows;
            }
        }).ConfigureAwait(false);
    }

    private static string NormalizeDomain(string domain) => StoredAddress.Domain(domain);

    private static string NormalizeAddress(string address, out string domain) => StoredAddress.Mailbox(address, out domain);
}
