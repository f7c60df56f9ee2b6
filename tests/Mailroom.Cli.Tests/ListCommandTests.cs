using Mailroom.Cli.Admin;
using Mailroom.Core.Storage;

namespace Mailroom.Cli.Tests;

public sealed class ListCommandTests : CliRun
{
    [Fact]
    public async Task Lists_are_added_filled_shown_emptied_and_removed()
    {
        await RunAsync("domain", "add", "example.com");
        Assert.Equal("added list staff@example.com (who may post: members)\n", (await RunAsync("list", "add", "Staff@example.com")).Output);
        Assert.Equal(ExitCodes.DataError, (await RunAsync("list", "add", "staff@example.com")).ExitCode);
        Assert.Equal("added list news@example.com (who may post: senders)\n", (await RunAsync("list", "add", "news@example.com", "--policy", "Senders")).Output);
        Assert.Equal("added member alice@example.com to staff@example.com\n", (await RunAsync("list", "member", "add", "staff@example.com", "Alice@example.com")).Output);
        Assert.Equal(ExitCodes.Ok, (await RunAsync("list", "member", "add", "staff@example.com", "news@example.com")).ExitCode);
        Assert.Equal(ExitCodes.DataError, (await RunAsync("list", "member", "add", "staff@example.com", "alice@example.com")).ExitCode);
        Assert.Equal(ExitCodes.Ok, (await RunAsync("list", "sender", "add", "news@example.com", "editor@remote.example")).ExitCode);

        Assert.Equal("staff@example.com\tpolicy members\nmember\talice@example.com\nmember\tnews@example.com\n", (await RunAsync("list", "show", "staff@example.com")).Output);
        Assert.Equal("news@example.com\tpolicy senders\nsender\teditor@remote.example\n", (await RunAsync("list", "show", "news@example.com")).Output);

        Assert.Equal(ExitCodes.Ok, (await RunAsync("list", "member", "remove", "staff@example.com", "news@example.com")).ExitCode);
        var list = await WithStoreAsync(store => store.FindListAsync("staff@example.com", CancellationToken.None));
        Assert.Equal(["alice@example.com"], list!.Members);
        Assert.Equal(PostingPolicy.Members, list.Policy);

        Assert.Equal(ExitCodes.Ok, (await RunAsync("list", "remove", "staff@example.com")).ExitCode);
        Assert.Equal(ExitCodes.NoUser, (await RunAsync("list", "show", "staff@example.com")).ExitCode);
        Assert.Equal(ExitCodes.DataError, (await RunAsync("list", "add", "x@elsewhere.example")).ExitCode);
    }
}
