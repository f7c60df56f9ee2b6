using Mailroom.Core.Accounts;
using Mailroom.Core.Storage;
using Mailroom.Server.Tests.Fakes;
using Mailroom.Storage.Sqlite;

namespace Mailroom.Server.Tests.Sessions;

/// <summary>
/// The SCRAM salt given to a user with no account. A real account's salt is stored, so it is the
/// same after a restart and from every node; a made-up one that changed with the process would
/// tell an unknown user from a real one to anyone who asks twice (docs/SECURITY.md).
/// </summary>
public sealed class AuthenticatorTests : IAsyncLifetime
{
    private const string Unknown = "nobody@example.test";
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _folder = Directory.CreateTempSubdirectory("mailroom-auth-").FullName;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task An_unknown_users_salt_is_the_same_from_a_second_authenticator_and_after_a_restart()
    {
        byte[] first, otherUser;
        await using (var store = await SqliteMailStore.OpenAsync(_folder, None))
        {
            using var one = new Authenticator(store);
            using var two = new Authenticator(store);
            first = await SaltAsync(one, Unknown);
            Assert.Equal(first, await SaltAsync(two, Unknown));
            Assert.Equal(first, await SaltAsync(one, "NOBODY@example.test"));
            otherUser = await SaltAsync(one, "someone@example.test");
            Assert.NotEqual(first, otherUser);
        }

        await using (var reopened = await SqliteMailStore.OpenAsync(_folder, None))
        {
            using var afterRestart = new Authenticator(reopened);
            Assert.Equal(first, await SaltAsync(afterRestart, Unknown));
            Assert.Equal(otherUser, await SaltAsync(afterRestart, "someone@example.test"));
        }
    }

    /// <summary>A store that cannot give the key fails the exchange (a temporary failure), and a later one reads it again.</summary>
    [Fact]
    public async Task A_key_that_cannot_be_read_fails_that_exchange_and_is_read_again_at_the_next()
    {
        await using var store = await SqliteMailStore.OpenAsync(_folder, None);
        using var authenticator = new Authenticator(store);
        await ExecuteAsync("ALTER TABLE server_secrets RENAME TO server_secrets_away;");

        await Assert.ThrowsAnyAsync<StorageException>(() => SaltAsync(authenticator, Unknown));

        await ExecuteAsync("ALTER TABLE server_secrets_away RENAME TO server_secrets;");
        var salt = await SaltAsync(authenticator, Unknown);
        using var another = new Authenticator(store);
        Assert.Equal(salt, await SaltAsync(another, Unknown));
    }

    /// <summary>Over SMTP: while the key cannot be read, SCRAM gets RFC 4954's temporary failure, and the session goes on.</summary>
    [Fact]
    public async Task Scram_while_the_key_cannot_be_read_is_a_temporary_failure_and_the_session_goes_on()
    {
        await using var db = await SqliteSessionStore.CreateAsync();
        await SqliteBeside.ExecuteAsync(db.Folder, "ALTER TABLE server_secrets RENAME TO server_secrets_away;");
        var clientFirst = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("n,,n=nobody@example.test,r=clientnonce"));

        await using var h = db.Session(audit: null);
        await h.StartAsync();
        Assert.Equal("4.7.0", (await h.ExpectAsync("AUTH SCRAM-SHA-256 " + clientFirst, 454)).Enhanced.ToString());
        await h.ExpectAsync("NOOP", 250);

        await SqliteBeside.ExecuteAsync(db.Folder, "ALTER TABLE server_secrets_away RENAME TO server_secrets;");
        await h.ExpectAsync("AUTH SCRAM-SHA-256 " + clientFirst, 334);
        await h.ExpectAsync("*", 501);
        await h.ExpectAsync("QUIT", 221);
    }

    private static async Task<byte[]> SaltAsync(Authenticator authenticator, string user)
    {
        var credential = await authenticator.FindScramCredentialAsync(user, None);
        Assert.Null(credential.Account);
        return credential.Keys.Salt;
    }

    private Task ExecuteAsync(string sql) => SqliteBeside.ExecuteAsync(_folder, sql);
}
