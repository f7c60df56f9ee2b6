using Mailroom.Cli.Admin;

namespace Mailroom.Cli.Tests;

public sealed class DomainCommandTests : CliRun
{
    [Fact]
    public async Task DomainsAreAddedListedAndRemoved()
    {
        var added = await RunAsync("domain", "add", "Example.COM");
        Assert.Equal((ExitCodes.Ok, "added domain example.com\n", ""), (added.ExitCode, added.Output, added.Error));
        Assert.Equal(ExitCodes.Ok, (await RunAsync("domain", "add", "b.example")).ExitCode);

        Assert.Equal("b.example\nexample.com\n", (await RunAsync("domain", "list")).Output);

        var removed = await RunAsync("domain", "remove", "example.com");
        Assert.Equal(ExitCodes.Ok, removed.ExitCode);
        Assert.Equal("b.example\n", (await RunAsync("domain", "list")).Output);
    }

    [Fact]
    public async Task ADuplicateDomainIsADataError()
    {
        await RunAsync("domain", "add", "example.com");

        var again = await RunAsync("domain", "add", "EXAMPLE.com");

        Assert.Equal(ExitCodes.DataError, again.ExitCode);
        Assert.Equal("mailroom: domain example.com already exists\n", again.Error);
        Assert.Empty(again.Output);
    }

    [Fact]
    public async Task RemovingAnUnknownDomainIsAnUnknownAddress()
    {
        var result = await RunAsync("domain", "remove", "nowhere.example");

        Assert.Equal(ExitCodes.NoUser, result.ExitCode);
        Assert.Contains("nowhere.example is not a local domain", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStoreThatCannotOpenIsAnIoError()
    {
        Directory.CreateDirectory(DataDirectory);
        var file = Path.Combine(DataDirectory, "a-file");
        await File.WriteAllTextAsync(file, "not a folder");

        var result = await MailroomCommandLine.Build().Parse(["domain", "list", "--data", file])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = TextWriter.Null, Error = new StringWriter() });

        Assert.Equal(ExitCodes.IoError, result);
    }
}
