using Mailroom.Cli.Admin;
using Mailroom.Core.Storage;

namespace Mailroom.Cli.Tests;

public sealed class MailboxCommandTests : CliRun
{
    private async Task SetUpAsync()
    {
        await RunAsync("domain", "add", "example.com");
        await WithStoreAsync(async store =>
        {
            await store.AddAccountAsync("alice@example.com", "$test$hash", CancellationToken.None);
            await store.AddAccountAsync("bob@example.com", "$test$hash", CancellationToken.None);
            return true;
        });
    }

    [Fact]
    public async Task Shared_mailboxes_are_added_granted_listed_revoked_and_removed()
    {
        await SetUpAsync();
        Assert.Equal("added shared mailbox support@example.com\n", (await RunAsync("mailbox", "add", "Support@Example.com")).Output);
        Assert.Equal(ExitCodes.DataError, (await RunAsync("mailbox", "add", "support@example.com")).ExitCode);
        Assert.Equal("alice@example.com on support@example.com: rm\n", (await RunAsync("mailbox", "grant", "support@example.com", "alice@example.com", "rm")).Output);
        Assert.Equal("bob@example.com on support@example.com: rmda\n", (await RunAsync("mailbox", "grant", "support@example.com", "bob@example.com", "rmda")).Output);
        Assert.Equal("alice@example.com on support@example.com: r\n", (await RunAsync("mailbox", "revoke", "support@example.com", "alice@example.com", "m")).Output);
        Assert.Contains("support@example.com\talice@example.com=r bob@example.com=rmda\n", (await RunAsync("mailbox", "list")).Output, StringComparison.Ordinal);

        var rights = await WithStoreAsync(async store =>
        {
            var support = (await store.FindMailboxAsync("support@example.com", CancellationToken.None))!;
            var alice = (await store.FindAccountAsync("alice@example.com", CancellationToken.None))!;
            return await store.GetRightsAsync(support.Id, alice.Id, CancellationToken.None);
        });
        Assert.Equal(MailboxRights.Read, rights);

        Assert.Equal(ExitCodes.Ok, (await RunAsync("mailbox", "remove", "support@example.com")).ExitCode);
        Assert.Equal(ExitCodes.NoUser, (await RunAsync("mailbox", "remove", "support@example.com")).ExitCode);
        Assert.Equal(ExitCodes.NoUser, (await RunAsync("mailbox", "remove", "alice@example.com")).ExitCode);
    }

    [Fact]
    public async Task Bad_rights_unknown_users_and_own_mailboxes_are_refused()
    {
        await SetUpAsync();
        await RunAsync("mailbox", "add", "support@example.com");
        Assert.Equal(ExitCodes.Usage, (await RunAsync("mailbox", "grant", "support@example.com", "alice@example.com", "rx")).ExitCode);
        Assert.Equal(ExitCodes.NoUser, (await RunAsync("mailbox", "grant", "support@example.com", "nobody@example.com", "r")).ExitCode);
        Assert.Equal(ExitCodes.NoUser, (await RunAsync("mailbox", "grant", "nothing@example.com", "alice@example.com", "r")).ExitCode);
        Assert.Equal(ExitCodes.DataError, (await RunAsync("mailbox", "grant", "alice@example.com", "alice@example.com", "r")).ExitCode);
        Assert.Equal(ExitCodes.DataError, (await RunAsync("mailbox", "add", "x@elsewhere.example")).ExitCode);
    }

    [Fact]
    public async Task Restore_brings_deleted_mail_back()
    {
        await SetUpAsync();
        await DeliverAsync("s@example.net", "alice@example.com", "Subject: keep me\r\n\r\nx\r\n"u8.ToArray());
        await WithStoreAsync(async store =>
        {
            var inbox = (await store.FindMailboxAsync("alice@example.com", CancellationToken.None))!;
            return await store.TrashAsync(inbox.Id, null, CancellationToken.None);
        });
        Assert.DoesNotContain("keep me", (await RunAsync("mail", "list")).Output, StringComparison.Ordinal);
        Assert.Equal("restored 1 message(s) to alice@example.com\n", (await RunAsync("mailbox", "restore", "alice@example.com")).Output);
        Assert.Contains("keep me", (await RunAsync("mail", "list")).Output, StringComparison.Ordinal);
    }
}
