using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MimeKit;

namespace Mailroom.Server.Tests.Integration;

/// <summary>
/// <c>mailroom send</c> and <c>mailroom sendmail</c> as real processes, as a person or a script
/// runs them: against our server (STARTTLS with a pinned self-signed certificate, AUTH) and against
/// an independent one (Python's aiosmtpd).
/// </summary>
public sealed class SendCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mailroom-send-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly byte[] AttachmentBytes = [.. "Grüße aus Köln, 日本語\r\n"u8.ToArray(), 0x00, 0xFF, 0x80, .. "\r\n.\r\nend"u8.ToArray()];

    [Fact]
    public async Task Send_builds_mime_with_a_non_ascii_attachment_over_pinned_starttls_with_a_login_and_prints_the_servers_id()
    {
        await using var server = await LoopbackServer.StartAsync(tls: true, role: ListenerRole.Submission, auth: true);
        var attachment = await WriteAsync("résumé.bin", AttachmentBytes);
        var body = await WriteAsync("body.txt", Encoding.UTF8.GetBytes("Grüße, Ünïcödé text\nsecond line\n"));

        var (exit, output, error) = await MailroomAsync(
            ["send", "--server", $"127.0.0.1:{server.Port}", "--tls", "starttls", "--tls-fingerprint", server.Certificates!.Fingerprint,
             "--user", "alice@example.test", "--password-stdin", "--from", "alice@example.test", "--to", "bob@example.test",
             "--subject", "Grüße", "--body-file", body, "--attach", attachment, "--header", "X-Test: yes"],
            LoopbackServer.Password + "\n");

        Assert.True(exit == 0, output + error);
        var summary = Assert.Single(await server.Store.ListMessagesAsync("bob@example.test", CancellationToken.None));
        Assert.Contains($"the server's id for it: {summary.MessageId}", output, StringComparison.Ordinal);
        await using var stored = (await server.Store.OpenMessageAsync(summary.MessageId, CancellationToken.None))!;
        var message = await MimeMessage.LoadAsync(stored);
        Assert.Equal("Grüße", message.Subject);
        Assert.Equal("yes", message.Headers["X-Test"]);
        Assert.False(string.IsNullOrEmpty(message.MessageId));
        Assert.Equal("1.0", message.Headers[HeaderId.MimeVersion]);
        Assert.Equal("Grüße, Ünïcödé text\nsecond line\n".ReplaceLineEndings(), message.TextBody!.ReplaceLineEndings());
        var part = Assert.IsType<MimePart>(Assert.Single(message.Attachments));
        Assert.Equal("résumé.bin", part.FileName);
        using var content = new MemoryStream();
        await part.Content!.DecodeToAsync(content);
        Assert.Equal(AttachmentBytes, content.ToArray());
    }

    [Theory]
    [InlineData("wrong password", 77)]
    [InlineData("unknown recipient", 69)]
    [InlineData("wrong pin", 77)]
    [InlineData("nobody listening", 75)]
    public async Task Send_failures_exit_with_their_sysexits_code_and_the_servers_reply(string failure, int code)
    {
        await using var server = await LoopbackServer.StartAsync(tls: true, role: ListenerRole.Submission, auth: true);
        var port = failure == "nobody listening" ? FreePort() : server.Port;
        var (exit, output, error) = await MailroomAsync(
            ["send", "--server", $"127.0.0.1:{port}", "--tls", "starttls", "--tls-fingerprint", failure == "wrong pin" ? new string('A', 64) : server.Certificates!.Fingerprint,
             "--user", "alice@example.test", "--password-stdin", "--from", "alice@example.test",
             "--to", failure == "unknown recipient" ? "nobody@example.test" : "bob@example.test", "--subject", "x", "--body", "x"],
            (failure == "wrong password" ? "not it" : LoopbackServer.Password) + "\n");

        Assert.True(exit == code, $"{exit}: {output}{error}");
        Assert.StartsWith("mailroom", error, StringComparison.Ordinal);
        if (failure is "wrong password" or "unknown recipient")
        {
            Assert.Matches(@"\b5\d\d\b", error);
        }

        Assert.Empty(await server.Store.ListMessagesAsync("bob@example.test", CancellationToken.None));
    }

    [Fact]
    public async Task Sendmail_t_takes_recipients_from_the_headers_strips_bcc_and_stops_at_a_lone_dot_without_i()
    {
        await using var server = await LoopbackServer.StartAsync();
        var config = await WriteAsync("client.json", Encoding.UTF8.GetBytes($$"""{ "Server": "127.0.0.1:{{server.Port}}", "Tls": "none" }"""));
        const string Script = "From: cron@example.test\nTo: bob@example.test\nBcc: alice@example.test\nSubject: nightly\n\nall good\n.\nnot part of it\n";

        var (exit, output, error) = await MailroomAsync(["sendmail", "-t", "-f", "cron@example.test"], Script, new() { ["MAILROOM_CLIENT_CONFIG"] = config });

        Assert.True(exit == 0, output + error);
        foreach (var recipient in new[] { "bob@example.test", "alice@example.test" })
        {
            var summary = Assert.Single(await server.Store.ListMessagesAsync(recipient, CancellationToken.None));
            await using var stored = (await server.Store.OpenMessageAsync(summary.MessageId, CancellationToken.None))!;
            var text = await new StreamReader(stored).ReadToEndAsync();
            Assert.DoesNotContain("Bcc:", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("alice@example.test", text[..text.IndexOf("\r\n\r\n", StringComparison.Ordinal)].Replace("for <alice@example.test>", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.Contains("all good", text, StringComparison.Ordinal);
            Assert.DoesNotContain("not part of it", text, StringComparison.Ordinal);
            Assert.Contains("Message-ID:", text, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("Date:", text, StringComparison.Ordinal);
        }

        // With -i (git send-email, mutt -oi) the lone dot is content.
        (exit, output, error) = await MailroomAsync(["sendmail", "-oi", "bob@example.test"], Script, new() { ["MAILROOM_CLIENT_CONFIG"] = config });
        Assert.True(exit == 0, output + error);
        var latest = (await server.Store.ListMessagesAsync("bob@example.test", CancellationToken.None))[^1];
        await using var second = (await server.Store.OpenMessageAsync(latest.MessageId, CancellationToken.None))!;
        Assert.Contains("not part of it", await new StreamReader(second).ReadToEndAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sendmail_passes_the_message_through_byte_for_byte_with_crlf_line_endings_and_takes_mailx_options()
    {
        await using var server = await LoopbackServer.StartAsync();
        var config = await WriteAsync("client.json", Encoding.UTF8.GetBytes($$"""{ "Server": "127.0.0.1:{{server.Port}}", "Tls": "none" }"""));
        var message = "From: cron@example.test\nTo: bob@example.test\nDate: Sat, 28 Nov 2026 10:00:00 +0000\nMessage-ID: <fixed@example.test>\n" +
            "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" +
            "Grüße, a line that MIME would re-encode if it re-serialised it: " + new string('x', 300) + "\n..leading dots stay\n";

        var (exit, output, error) = await MailroomAsync(["sendmail", "-oem", "-oi", "-B", "8BITMIME", "-r", "owner@example.test", "-F", "Cron Daemon", "--", "bob@example.test"], message, new() { ["MAILROOM_CLIENT_CONFIG"] = config });

        Assert.True(exit == 0, output + error);
        var summary = Assert.Single(await server.Store.ListMessagesAsync("bob@example.test", CancellationToken.None));
        Assert.Equal("owner@example.test", summary.Sender);
        await using var stored = (await server.Store.OpenMessageAsync(summary.MessageId, CancellationToken.None))!;
        using var bytes = new MemoryStream();
        await stored.CopyToAsync(bytes);
        var expected = Encoding.UTF8.GetBytes(message.Replace("\n", "\r\n", StringComparison.Ordinal));
        Assert.True(bytes.ToArray().AsSpan().EndsWith(expected), Encoding.UTF8.GetString(bytes.ToArray()));
        Assert.Single(await server.Store.ListMessagesAsync(null, CancellationToken.None));
    }

    [Fact]
    public async Task Sendmail_from_a_script_without_a_from_header_sends_as_the_user_it_logs_in_as()
    {
        await using var server = await LoopbackServer.StartAsync(tls: true, role: ListenerRole.Submission, auth: true);
        var config = await WriteAsync("client.json", Encoding.UTF8.GetBytes($$"""{ "Server": "127.0.0.1:{{server.Port}}", "TlsFingerprint": "{{server.Certificates!.Fingerprint}}", "User": "alice@example.test" }"""));

        var (exit, output, error) = await MailroomAsync(["sendmail", "-t"], "To: bob@example.test\nSubject: nightly\n\nall good\n", new() { ["MAILROOM_CLIENT_CONFIG"] = config, ["MAILROOM_PASSWORD"] = LoopbackServer.Password });

        Assert.True(exit == 0, output + error);
        var summary = Assert.Single(await server.Store.ListMessagesAsync("bob@example.test", CancellationToken.None));
        Assert.Equal("alice@example.test", summary.Sender);
    }

    [Fact]
    public async Task Sendmail_stops_reading_at_the_lone_dot_without_waiting_for_the_end_of_input()
    {
        await using var server = await LoopbackServer.StartAsync();
        var config = await WriteAsync("client.json", Encoding.UTF8.GetBytes($$"""{ "Server": "127.0.0.1:{{server.Port}}", "Tls": "none" }"""));
        var start = Mailroom.Testing.MailroomProgram.StartInfo(["sendmail", "bob@example.test"]);

        start.Environment["MAILROOM_CLIENT_CONFIG"] = config;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            // Standard input stays open, as an old caller that waits for sendmail to exit leaves it.
            await process.StandardInput.WriteAsync("Subject: dot\n\nbody\n.\n");
            await process.StandardInput.FlushAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await process.WaitForExitAsync(cts.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        Assert.True(process.ExitCode == 0, await stdout + await stderr);
        Assert.Single(await server.Store.ListMessagesAsync("bob@example.test", CancellationToken.None));
    }

    [Fact]
    public async Task Send_delivers_through_an_independent_server_aiosmtpd()
    {
        // Debian's python3 has the package; a python3 earlier on PATH (pyenv, a venv) may not.
        Tools.Find("python3");
        string? python = null;
        foreach (var candidate in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "python3")).Append("/usr/bin/python3").Where(File.Exists).Distinct())
        {
            if ((await Tools.RunAsync(candidate, ["-c", "import aiosmtpd"])).Exit == 0)
            {
                python = candidate;
                break;
            }
        }

        if (python is null)
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail("python3-aiosmtpd is not installed; .ci/run installs it.");
            }

            Assert.Skip("python3-aiosmtpd is not installed.");
        }

        var maildir = Path.Combine(_folder, "maildir");
        var port = FreePort();
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Mailbox", maildir })
        {
            start.ArgumentList.Add(arg);
        }

        using var aiosmtpd = Process.Start(start)!;
        try
        {
            await WaitForListenerAsync(port);
            var attachment = await WriteAsync("bericht.bin", AttachmentBytes);
            var (exit, output, error) = await MailroomAsync(
                ["send", "--server", $"127.0.0.1:{port}", "--tls", "none", "--from", "me@example.org", "--to", "you@example.net",
                 "--subject", "über aiosmtpd", "--body", "Grüße", "--attach", attachment]);

            Assert.True(exit == 0, output + error);
            var file = Assert.Single(Directory.GetFiles(Path.Combine(maildir, "new")));
            var message = await MimeMessage.LoadAsync(file);
            Assert.Equal("über aiosmtpd", message.Subject);
            using var content = new MemoryStream();
            await Assert.IsType<MimePart>(Assert.Single(message.Attachments)).Content!.DecodeToAsync(content);
            Assert.Equal(AttachmentBytes, content.ToArray());
        }
        finally
        {
            aiosmtpd.Kill(entireProcessTree: true);
            await aiosmtpd.WaitForExitAsync();
        }
    }

    private async Task<string> WriteAsync(string name, byte[] content)
    {
        var path = Path.Combine(_folder, name);
        await File.WriteAllBytesAsync(path, content);
        return path;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitForListenerAsync(int port)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port, cts.Token);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50, cts.Token);
            }
        }
    }

    /// <summary>Runs the real <c>mailroom</c> program with <paramref name="input"/> on standard input; nothing of the test's environment but PATH and HOME.</summary>
    private async Task<(int Exit, string Output, string Error)> MailroomAsync(string[] args, string input = "", Dictionary<string, string>? environment = null)
    {
        var start = Mailroom.Testing.MailroomProgram.StartInfo(args);

        // No client.json of the person running the tests may change what is tested.
        start.Environment["MAILROOM_CLIENT_CONFIG"] = await WriteAsync("empty-client.json", "{}"u8.ToArray());
        start.Environment.Remove("MAILROOM_PASSWORD");
        foreach (var (key, value) in environment ?? [])
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
