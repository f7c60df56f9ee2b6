using System.CommandLine;
using System.Globalization;
using System.Text;
using MailKit.Net.Smtp;
using Mailroom.Cli;
using Mailroom.Core.Accounts;
using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;
using Mailroom.Storage.Sqlite;
using Mailroom.Testing;
using MimeKit;

namespace Mailroom.Server.Tests.Integration;

/// <summary>
/// The audit log of a real <c>mailroom serve</c> process, read back with the real
/// <c>mailroom audit</c> commands: no secret in any file, the chain intact, and the question an
/// auditor asks answered by one command.
/// </summary>
public sealed class AuditEndToEndTests : IAsyncLifetime
{
    private const string Alice = "alice@example.test";
    private const string Support = "support@example.test";

    /// <summary>Distinctive, so a match in a file can only be a leak.</summary>
    private const string Password = "Ka7#audit-only-p4ssphrase";

    private readonly string _folder = Directory.CreateTempSubdirectory("mailroom-audit-e2e-").FullName;
    private string _storedId = string.Empty;

    public async ValueTask InitializeAsync()
    {
        await using var store = await SqliteMailStore.OpenAsync(_folder, CancellationToken.None);
        await store.AddDomainAsync("example.test", CancellationToken.None);
        await store.AddAccountAsync(Alice, new PasswordHasher(iterations: 1000).Hash(Password), CancellationToken.None);
        var support = await store.AddSharedMailboxAsync(Support, CancellationToken.None);
        var alice = (await store.FindAccountAsync(Alice, CancellationToken.None))!;
        await store.SetRightsAsync(support.Id, alice.Id, MailboxRights.Read | MailboxRights.Mark | MailboxRights.Delete, CancellationToken.None);
        _storedId = MessageIds.New();
        await using var writer = await store.BeginMessageAsync(new MessageEnvelope(_storedId, "customer@remote.test", [new EnvelopeRecipient(support, Support)], DateTimeOffset.UtcNow), CancellationToken.None);
        await writer.WriteAsync("Subject: help\r\n\r\nplease\r\n"u8.ToArray(), CancellationToken.None);
        await writer.CommitAsync(CancellationToken.None);
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task A_real_server_audits_logins_mail_and_mailbox_actions_without_a_secret_and_the_cli_verifies_and_answers_who_did_what()
    {
        await using (var server = await ServerProcess.StartAsync(_folder, environment: new Dictionary<string, string>
        {
            ["MAILROOM__Smtp__AllowPlaintextAuthOnLoopback"] = "true",
            ["MAILROOM__Smtp__MailboxCommandsOnMx"] = "true",
            ["MAILROOM__Audit__Node"] = "node-e2e",
        }))
        {
            await SendWithMailKitAsync(server, "PLAIN");
            await SendWithMailKitAsync(server, "LOGIN");
            await MailboxSessionAsync(server);
            await server.TerminateAsync();
            Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }

        // Secrets: the password, its base64 (AUTH LOGIN), and the PLAIN message's base64, in no file of the log.
        var secrets = new[]
        {
            Password,
            Convert.ToBase64String(Encoding.UTF8.GetBytes(Password)),
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{Alice}\0{Password}")),
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Alice}\0{Alice}\0{Password}")),
        };
        var files = Directory.GetFiles(Path.Combine(_folder, "audit"), "*", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var text = await File.ReadAllTextAsync(file);
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            }
        }

        var verify = await CliAsync("audit", "verify", "--data", _folder);
        Assert.True(verify.ExitCode == 0, verify.Output + verify.Error);
        Assert.Contains("server: ", verify.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("BROKEN", verify.Output, StringComparison.Ordinal);

        // Who read or deleted what in support@, from where, and when: one command.
        var answer = Lines((await CliAsync("audit", "show", "--data", _folder, "--mailbox", Support, "--event", "mailbox.read,mailbox.delete")).Output);
        Assert.Equal(2, answer.Length);
        Assert.Contains(" node-e2e mailbox.read ok ", answer[0], StringComparison.Ordinal);
        Assert.Contains(" node-e2e mailbox.delete ok ", answer[1], StringComparison.Ordinal);
        Assert.All(answer, line =>
        {
            Assert.Contains($"user={Alice}", line, StringComparison.Ordinal);
            Assert.Contains("client=127.0.0.1:", line, StringComparison.Ordinal);
            Assert.Contains($"mailbox={Support}", line, StringComparison.Ordinal);
            Assert.Contains($"message={_storedId}", line, StringComparison.Ordinal);
        });

        var logins = Lines((await CliAsync("audit", "show", "--data", _folder, "--event", "login")).Output);
        Assert.Equal(4, logins.Length);
        Assert.Single(logins, l => l.Contains(" login refused ", StringComparison.Ordinal));
        Assert.Equal(2, (await CliAsync("audit", "show", "--data", _folder, "--event", "message")).Output.Split(" message ok ").Length - 1);

        var commands = Lines((await CliAsync("audit", "show", "--data", _folder, "--event", "command")).Output);
        foreach (var verb in new[] { "EHLO", "AUTH PLAIN", "AUTH LOGIN", "MAIL", "RCPT", "DATA", "QUIT", "LOGN", "READ", "NEXT", "FLAG", "DELE", "RTRN" })
        {
            Assert.Contains(commands, l => l.Contains($"command=\"{verb}", StringComparison.Ordinal) || l.Contains($"command={verb} ", StringComparison.Ordinal) || l.EndsWith($"command={verb}", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Admin_commands_run_without_the_servers_configuration_still_encrypt_with_its_key_and_show_reads_both()
    {
        var key = Path.Combine(_folder, "audit.key");
        Assert.Equal(0, (await CliAsync("audit", "new-key", key)).ExitCode);
        await using (var server = await ServerProcess.StartAsync(_folder, environment: new Dictionary<string, string>
        {
            ["MAILROOM__Audit__Cipher"] = "aes-256-gcm",
            ["MAILROOM__Audit__KeyFile"] = key,
            ["MAILROOM__Audit__Node"] = "node-aes",
        }))
        {
            using var client = new SmtpClient();
            await client.ConnectAsync("127.0.0.1", server.Endpoint.Port, MailKit.Security.SecureSocketOptions.None);
            var message = new MimeMessage();
            message.From.Add(MailboxAddress.Parse("customer@remote.test"));
            message.To.Add(MailboxAddress.Parse(Support));
            message.Subject = "encrypted audit";
            message.Body = new TextPart("plain") { Text = "x" };
            await client.SendAsync(message);
            await client.DisconnectAsync(quit: true);
            await server.TerminateAsync();
            Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }

        // No --config, no MAILROOM__ variables: the server's own settings, left in the data folder, apply.
        Assert.Equal(0, (await CliAsync("domain", "add", "extra.example", "--data", _folder)).ExitCode);

        foreach (var file in Directory.GetFiles(Path.Combine(_folder, "audit"), "*.jsonl"))
        {
            var text = await File.ReadAllTextAsync(file);
            Assert.DoesNotContain("extra.example", text, StringComparison.Ordinal);
            Assert.DoesNotContain("customer@remote.test", text, StringComparison.Ordinal);
        }

        var shown = (await CliAsync("audit", "show", "--data", _folder)).Output;
        Assert.Contains("node-aes admin ok", shown, StringComparison.Ordinal);
        Assert.Contains("extra.example", shown, StringComparison.Ordinal);
        Assert.Contains("FROM:<customer@remote.test>", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot be read", shown, StringComparison.Ordinal);
        Assert.Equal(0, (await CliAsync("audit", "verify", "--data", _folder)).ExitCode);
    }

    private static async Task SendWithMailKitAsync(ServerProcess server, string mechanism)
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", server.Endpoint.Port, MailKit.Security.SecureSocketOptions.None);
        foreach (var other in client.AuthenticationMechanisms.Where(m => m != mechanism).ToArray())
        {
            client.AuthenticationMechanisms.Remove(other);
        }

        await client.AuthenticateAsync(Alice, Password);
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(Alice));
        message.To.Add(MailboxAddress.Parse(Support));
        message.Subject = "audited via " + mechanism;
        message.Body = new TextPart("plain") { Text = "The body is never in the audit log." };
        await client.SendAsync(message);
        await client.DisconnectAsync(quit: true);
    }

    /// <summary>A wrong password first, then LOGN, READ, NEXT, FLAG, DELE, RTRN: what a telnet user types.</summary>
    private static async Task MailboxSessionAsync(ServerProcess server)
    {
        await using var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.Equal(250, (await client.CommandAsync("EHLO telnet.user")).Code);
        Assert.Equal(535, (await client.CommandAsync($"LOGN {Alice} {Password}-wrong")).Code);
        Assert.Equal(235, (await client.CommandAsync($"LOGN {Alice} {Password}")).Code);
        Assert.Equal(250, (await client.CommandAsync($"READ {Support}")).Code);
        var next = await client.CommandAsync("NEXT");
        Assert.Equal(250, next.Code);
        await client.ReadBytesAsync(long.Parse(next.Lines[0].Split(' ')[2], CultureInfo.InvariantCulture));
        Assert.Equal(250, (await client.CommandAsync("FLAG important")).Code);
        Assert.Equal(250, (await client.CommandAsync("DELE")).Code);
        Assert.Equal(250, (await client.CommandAsync("RTRN")).Code);
        Assert.Equal(221, (await client.CommandAsync("QUIT")).Code);
    }

    private static async Task<(int ExitCode, string Output, string Error)> CliAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await MailroomCommandLine.Build().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
