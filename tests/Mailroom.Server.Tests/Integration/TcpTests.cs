using System.Diagnostics;
using System.Text;

namespace Mailroom.Server.Tests.Integration;

/// <summary>The server over real loopback TCP with a real SQLite store.</summary>
public class TcpTests
{
    [Fact]
    public async Task Smtp_smuggling_regression_over_tcp_nothing_is_delivered_and_nothing_is_executed()
    {
        await using var server = await LoopbackServer.StartAsync();
        await using var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.Equal(250, (await client.CommandAsync("EHLO attacker.test")).Code);

        // One write: the pipelined transaction with a smuggled second message behind "\n.\r\n".
        await client.SendAsync(
            "MAIL FROM:<ceo@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n" +
            "Subject: innocent\r\n\r\nhello\n.\r\n" +
            "MAIL FROM:<admin@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n" +
            "From: admin@example.test\r\nSubject: smuggled\r\n\r\nsend money\r\n.\r\n");
        Assert.Equal(250, (await client.ReadReplyAsync())!.Code);
        Assert.Equal(250, (await client.ReadReplyAsync())!.Code);
        Assert.Equal(354, (await client.ReadReplyAsync())!.Code);
        var end = (await client.ReadReplyAsync())!;
        Assert.Equal(554, end.Code);
        Assert.Equal(250, (await client.CommandAsync("NOOP")).Code);
        Assert.Empty(await server.Store.ListMessagesAsync(null, CancellationToken.None));
    }

    [Fact]
    public async Task The_per_address_connection_cap_answers_421()
    {
        await using var server = await LoopbackServer.StartAsync(new SmtpServerOptions { MaxConnectionsPerAddress = 2 });
        await using var first = await RawClient.ConnectAsync(server.Endpoint);
        await using var second = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await first.ReadReplyAsync())!.Code);
        Assert.Equal(220, (await second.ReadReplyAsync())!.Code);
        await using (var third = await RawClient.ConnectAsync(server.Endpoint))
        {
            var refused = (await third.ReadReplyAsync())!;
            Assert.Equal(421, refused.Code);
            Assert.Equal("4.7.0", refused.Enhanced.ToString());
            Assert.Null(await third.ReadReplyAsync());
        }

        // Once one leaves (its slot is released before its socket closes), a new connection is served again.
        Assert.Equal(221, (await first.CommandAsync("QUIT")).Code);
        Assert.Null(await first.ReadReplyAsync());
        await using var again = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await again.ReadReplyAsync())!.Code);
    }

    [Fact]
    public async Task The_total_connection_cap_answers_421_4_3_2()
    {
        await using var server = await LoopbackServer.StartAsync(new SmtpServerOptions { MaxConnections = 1 });
        await using var first = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await first.ReadReplyAsync())!.Code);
        await using var second = await RawClient.ConnectAsync(server.Endpoint);
        var refused = (await second.ReadReplyAsync())!;
        Assert.Equal(421, refused.Code);
        Assert.Equal("4.3.2", refused.Enhanced.ToString());
        Assert.Equal(250, (await first.CommandAsync("NOOP")).Code);
    }

    [Fact]
    public async Task Shutdown_sends_421_to_idle_sessions()
    {
        var server = await LoopbackServer.StartAsync();
        await using var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        await server.DisposeAsync();
        var reply = (await client.ReadReplyAsync())!;
        Assert.Equal(421, reply.Code);
        Assert.Equal("4.3.2", reply.Enhanced.ToString());
    }

    [Fact]
    public async Task Python_smtplib_sends_a_message()
    {
        var python = Tools.Find("python3");
        await using var server = await LoopbackServer.StartAsync();
        var script = $$"""
            import smtplib
            from email.message import EmailMessage
            m = EmailMessage()
            m["From"] = "py@remote.test"
            m["To"] = "alice@example.test"
            m["Subject"] = "from smtplib"
            m.set_content("hello from python")
            with smtplib.SMTP("127.0.0.1", {{server.Port}}, local_hostname="py.client") as s:
                s.ehlo()
                assert s.has_extn("pipelining") and s.has_extn("chunking")
                refused = s.send_message(m)
                assert refused == {}, refused
                code, _ = s.noop()
                assert code == 250
            print("sent")
            """;
        var (exit, output) = await Tools.RunAsync(python, ["-c", script]);
        Assert.True(exit == 0, output);
        var summary = Assert.Single(await server.Store.ListMessagesAsync("alice@example.test", CancellationToken.None));
        Assert.Equal("from smtplib", summary.Subject);
        Assert.Equal("py@remote.test", summary.Sender);
    }

    [Fact]
    public async Task Swaks_sends_a_message_with_pipelining()
    {
        var swaks = Tools.Find("swaks");
        await using var server = await LoopbackServer.StartAsync();
        var (exit, output) = await Tools.RunAsync(swaks, ["--server", "127.0.0.1", "--port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--from", "swaks@remote.test", "--to", "bob@example.test", "--header", "Subject: from swaks", "--pipeline", "--helo", "swaks.client"]);
        Assert.True(exit == 0, output);
        Assert.Contains("250 2.0.0 OK: queued as", output, StringComparison.Ordinal);
        var summary = Assert.Single(await server.Store.ListMessagesAsync("bob@example.test", CancellationToken.None));
        Assert.Equal("from swaks", summary.Subject);
    }
}

/// <summary>External programs the tests use when they are installed; in CI their absence is a failure.</summary>
internal static class Tools
{
    public static string Find(string name)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
        if (path is not null)
        {
            return path;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail($"{name} is not installed; .ci/run installs it.");
        }

        Assert.Skip($"{name} is not installed.");
        return name;
    }

    public static async Task<(int Exit, string Output)> RunAsync(string file, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
