using System.Text.Json;

using Mailroom.Cli.Admin;

namespace Mailroom.Cli.Tests;

public sealed class MailCommandTests : CliRun
{
    [Fact]
    public async Task ListAsJsonShowsADelivery()
    {
        var body = "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n\r\nhi\r\n"u8.ToArray();
        var id = await DeliverAsync("", "postmaster", body);

        var result = await RunAsync("mail", "list", "--json");

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        using var json = JsonDocument.Parse(result.Output);
        var entry = Assert.Single(json.RootElement.EnumerateArray());
        Assert.Equal(id, entry.GetProperty("id").GetString());
        Assert.Equal("postmaster", entry.GetProperty("mailbox").GetString());
        Assert.Equal("<>", entry.GetProperty("sender").GetString());
        Assert.Equal("Grüße", entry.GetProperty("subject").GetString());
        Assert.Equal(body.Length, entry.GetProperty("size").GetInt64());
        var received = DateTimeOffset.Parse(entry.GetProperty("received").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(received, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task ListPrintsOneLinePerDeliveryAndFiltersByMailbox()
    {
        var first = await DeliverAsync("a@example.net", "postmaster", "Subject: one\r\n\r\n"u8.ToArray());
        var second = await DeliverAsync("b@example.net", "abuse", "Subject: two\r\n\tfolded\r\n\r\n"u8.ToArray());

        var all = await RunAsync("mail", "list");
        var lines = all.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        var fields = lines[0].Split('\t');
        Assert.Equal([first, "postmaster", "a@example.net", "one", "16"], [fields[0], fields[1], fields[3], fields[4], fields[5]]);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", fields[2]);

        var filtered = await RunAsync("mail", "list", "--mailbox", "ABUSE");
        Assert.StartsWith(second + "\tabuse\t", filtered.Output, StringComparison.Ordinal);
        Assert.Single(filtered.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task ShowPrintsExactlyTheStoredBytes()
    {
        // Bytes that a text round trip would damage: 8-bit, invalid UTF-8, a bare LF, no final CRLF.
        byte[] body = [.. "Subject: raw\r\n\r\n"u8, 0xFF, 0xFE, 0xC3, (byte)'\n', 0x00, (byte)'e', 0xE9, (byte)'\r'];
        var id = await DeliverAsync("a@example.net", "postmaster", body);

        var result = await RunAsync("mail", "show", id);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal(body, result.OutputBytes);
    }

    [Fact]
    public async Task ShowingAnUnknownIdFails()
    {
        var result = await RunAsync("mail", "show", "01HZZZZZZZZZZZZZZZZZZZZZZZ");

        Assert.Equal(ExitCodes.DataError, result.ExitCode);
        Assert.Equal("mailroom: no such message: 01HZZZZZZZZZZZZZZZZZZZZZZZ\n", result.Error);
        Assert.Empty(result.OutputBytes);
    }
}
