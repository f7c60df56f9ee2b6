using Mailroom.Cli.Admin;
using Mailroom.Core.Accounts;

namespace Mailroom.Cli.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleUsers
{
    public const string Name = "Console";
}

/// <summary>These replace Console.In, so they run alone.</summary>
[Collection(ConsoleUsers.Name)]
public sealed class UserCommandTests : CliRun
{
    [Fact]
    public async Task AUserAddedWithPasswordStdinGetsAVerifiableHash()
    {
        await RunAsync("domain", "add", "example.com");

        var result = await WithStandardInputAsync("correct horse\nignored second line\n", () => RunAsync("user", "add", "Alice@example.com", "--password-stdin"));

        Assert.Equal((ExitCodes.Ok, "added user alice@example.com\n"), (result.ExitCode, result.Output));
        var account = await WithStoreAsync(store => store.FindAccountAsync("alice@example.com", CancellationToken.None));
        Assert.NotNull(account);
        Assert.True(PasswordHasher.Verify("correct horse", account.PasswordHash));
        Assert.False(PasswordHasher.Verify("correct horse\n", account.PasswordHash));
        Assert.NotNull(await WithStoreAsync(store => store.FindMailboxAsync("alice@example.com", CancellationToken.None)));
        Assert.StartsWith("alice@example.com\t", (await RunAsync("user", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AUserOnAnUnknownDomainIsRefused()
    {
        var result = await WithStandardInputAsync("pw\n", () => RunAsync("user", "add", "bob@nowhere.example", "--password-stdin"));

        Assert.Equal(ExitCodes.NoUser, result.ExitCode);
        Assert.Equal("mailroom: domain nowhere.example is not a local domain; add it with `mailroom domain add nowhere.example`\n", result.Error);
        Assert.Empty(await WithStoreAsync(store => store.ListAccountsAsync(CancellationToken.None)));
    }

    [Fact]
    public async Task AnEmptyPasswordIsRefused()
    {
        await RunAsync("domain", "add", "example.com");

        var result = await WithStandardInputAsync("\n", () => RunAsync("user", "add", "alice@example.com", "--password-stdin"));

        Assert.Equal(ExitCodes.DataError, result.ExitCode);
        Assert.Contains("empty", result.Error, StringComparison.Ordinal);
        Assert.Empty(await WithStoreAsync(store => store.ListAccountsAsync(CancellationToken.None)));
    }

    [Fact]
    public async Task PasswdReplacesTheHashAndRemoveDeletesTheUser()
    {
        await RunAsync("domain", "add", "example.com");
        await WithStandardInputAsync("old\n", () => RunAsync("user", "add", "alice@example.com", "--password-stdin"));

        var changed = await WithStandardInputAsync("new\n", () => RunAsync("user", "passwd", "ALICE@example.com", "--password-stdin"));

        Assert.Equal(ExitCodes.Ok, changed.ExitCode);
        var account = await WithStoreAsync(store => store.FindAccountAsync("alice@example.com", CancellationToken.None));
        Assert.True(PasswordHasher.Verify("new", account!.PasswordHash));
        Assert.Equal(ExitCodes.Ok, (await RunAsync("user", "remove", "alice@example.com")).ExitCode);
        Assert.Equal(ExitCodes.NoUser, (await RunAsync("user", "remove", "alice@example.com")).ExitCode);
        var unknown = await WithStandardInputAsync("x\n", () => RunAsync("user", "passwd", "alice@example.com", "--password-stdin"));
        Assert.Equal(ExitCodes.NoUser, unknown.ExitCode);
    }

    [Fact]
    public async Task AMalformedAddressIsAUsageError()
    {
        var result = await WithStandardInputAsync("pw\n", () => RunAsync("user", "add", "alice", "--password-stdin"));

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
    }

    private static async Task<T> WithStandardInputAsync<T>(string input, Func<Task<T>> action)
    {
        var original = Console.In;
        Console.SetIn(new StringReader(input));
        try
        {
            return await action();
        }
        finally
        {
            Console.SetIn(original);
        }
    }
}
