using System.Text;
using System.Text.Json;
using Mailroom.Cli.Admin;
using Mailroom.Cli.Audit;

namespace Mailroom.Cli.Tests;

/// <summary>The admin commands' audit entries, and <c>mailroom audit show|verify|new-key</c> on real files.</summary>
[Collection(ConsoleUsers.Name)]
public sealed class AuditCommandTests : CliRun
{
    private const string Password = "Tr0ub4dor&3 audit secret";

    private string AuditFolder => Path.Combine(DataDirectory, "audit");

    [Fact]
    public async Task Admin_commands_are_recorded_with_their_arguments_user_and_exit_code_and_never_the_password()
    {
        Assert.Equal(ExitCodes.Ok, (await RunAsync("domain", "add", "example.com")).ExitCode);
        Assert.Equal(ExitCodes.DataError, (await RunAsync("domain", "add", "example.com")).ExitCode);
        var original = Console.In;
        Console.SetIn(new StringReader(Password + "\n"));
        try
        {
            Assert.Equal(ExitCodes.Ok, (await RunAsync("user", "add", "alice@example.com", "--password-stdin")).ExitCode);
        }
        finally
        {
            Console.SetIn(original);
        }

        var entries = await ShowJsonAsync("--event", "admin");

        Assert.Equal(["domain add", "domain add", "user add"], entries.Select(e => e.GetProperty("command").GetString()));
        Assert.Equal(["exit 0", "exit 65", "exit 0"], entries.Select(e => e.GetProperty("reply").GetString()));
        Assert.Equal(["ok", "refused", "ok"], entries.Select(e => e.GetProperty("outcome").GetString()));
        Assert.Equal(["example.com", "example.com", "alice@example.com --password-stdin"], entries.Select(e => e.GetProperty("args").GetString()));
        Assert.All(entries, e =>
        {
            Assert.Equal(Environment.UserName, e.GetProperty("user").GetString());
            Assert.Equal("cli", e.GetProperty("listener").GetString());
            Assert.Equal("local", e.GetProperty("client").GetString());
        });
        AssertNowhereInAuditFiles(Password);
        AssertNowhereInAuditFiles(Convert.ToBase64String(Encoding.UTF8.GetBytes(Password)));
    }

    [Fact]
    public async Task A_restore_is_a_mailbox_action_found_by_mailbox_and_event()
    {
        await RunAsync("domain", "add", "example.com");
        await RunAsync("mailbox", "add", "support@example.com");
        await RunAsync("mailbox", "restore", "support@example.com");
        await RunAsync("mailbox", "list");

        var lines = Lines((await RunAsync("audit", "show", "--mailbox", "Support@Example.com", "--event", "mailbox")).Output);

        var line = Assert.Single(lines);
        Assert.Contains(" mailbox.restore ok ", line, StringComparison.Ordinal);
        Assert.Contains("mailbox=support@example.com", line, StringComparison.Ordinal);
        Assert.Contains($"user={Environment.UserName}", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_says_intact_then_names_the_file_and_line_of_an_edited_entry()
    {
        await RunAsync("domain", "add", "example.com");
        await RunAsync("domain", "add", "example.org");
        await RunAsync("domain", "list");
        var intact = await RunAsync("audit", "verify");
        Assert.Equal(ExitCodes.Ok, intact.ExitCode);
        Assert.Contains("admin: ", intact.Output, StringComparison.Ordinal);
        Assert.Contains(": intact", intact.Output, StringComparison.Ordinal);

        // Someone rewrites history: the second domain was "example.net".
        var file = Directory.GetFiles(AuditFolder, "admin-*.jsonl").Order(StringComparer.Ordinal).Single(f => File.ReadAllText(f).Contains("example.org", StringComparison.Ordinal));
        var lines = File.ReadAllLines(file);
        var index = Array.FindIndex(lines, l => l.Contains("example.org", StringComparison.Ordinal));
        lines[index] = lines[index].Replace("example.org", "example.net", StringComparison.Ordinal);
        await File.WriteAllLinesAsync(file, lines);

        var broken = await RunAsync("audit", "verify");

        Assert.Equal(ExitCodes.DataError, broken.ExitCode);
        Assert.Contains("BROKEN (edited)", broken.Output, StringComparison.Ordinal);
        Assert.Contains($"{file} line {index + 1}", broken.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_encrypted_log_reads_back_with_old_and_new_keys_and_verifies_without_them()
    {
        var key1 = Path.Combine(DataDirectory, "keys", "one.key");
        var key2 = Path.Combine(DataDirectory, "keys", "two.key");
        Directory.CreateDirectory(Path.GetDirectoryName(key1)!);
        Assert.Equal(ExitCodes.Ok, (await RunWithoutDataAsync("audit", "new-key", key1)).ExitCode);
        Assert.Equal(ExitCodes.Ok, (await RunWithoutDataAsync("audit", "new-key", key2)).ExitCode);
        var first = await ConfigAsync("first.json", $$"""{ "Audit": { "Cipher": "aes-256-gcm", "KeyFile": {{JsonSerializer.Serialize(key1)}} } }""");
        var second = await ConfigAsync("second.json", $$"""{ "Audit": { "Cipher": "aes-256-gcm", "KeyFile": {{JsonSerializer.Serialize(key2)}}, "PreviousKeyFiles": [{{JsonSerializer.Serialize(key1)}}] } }""");
        var secondOnly = await ConfigAsync("second-only.json", $$"""{ "Audit": { "Cipher": "aes-256-gcm", "KeyFile": {{JsonSerializer.Serialize(key2)}} } }""");

        Assert.Equal(ExitCodes.Ok, (await RunAsync("domain", "add", "first.example", "--config", first)).ExitCode);
        Assert.Equal(ExitCodes.Ok, (await RunAsync("domain", "add", "second.example", "--config", second)).ExitCode);

        AssertNowhereInAuditFiles("first.example");
        AssertNowhereInAuditFiles("second.example");
        var both = (await RunAsync("audit", "show", "--event", "admin", "--config", second)).Output;
        Assert.Contains("first.example", both, StringComparison.Ordinal);
        Assert.Contains("second.example", both, StringComparison.Ordinal);
        var newOnly = await RunAsync("audit", "show", "--event", "admin", "--config", secondOnly);
        Assert.Equal(ExitCodes.Ok, newOnly.ExitCode);
        Assert.Contains("second.example", newOnly.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("first.example", newOnly.Output, StringComparison.Ordinal);
        Assert.Contains("cannot be read", newOnly.Output, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Ok, (await RunAsync("audit", "verify")).ExitCode);
    }

    [Fact]
    public async Task A_caesar_log_is_not_plain_text_but_reads_back()
    {
        var caesar = await ConfigAsync("caesar.json", """{ "Audit": { "Cipher": "caesar", "CaesarShift": 7 } }""");
        Assert.Equal(ExitCodes.Ok, (await RunAsync("domain", "add", "shifted.example", "--config", caesar)).ExitCode);

        AssertNowhereInAuditFiles("shifted.example");
        Assert.Contains("shifted.example", (await RunAsync("audit", "show", "--config", caesar)).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task New_key_never_overwrites_a_key()
    {
        Directory.CreateDirectory(DataDirectory);
        var key = Path.Combine(DataDirectory, "audit.key");
        var made = await RunWithoutDataAsync("audit", "new-key", key);
        Assert.Equal(ExitCodes.Ok, made.ExitCode);
        var content = await File.ReadAllTextAsync(key);
        Assert.Contains("wrote key ", made.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(content.Trim(), made.Output, StringComparison.Ordinal);

        Assert.Equal(ExitCodes.IoError, (await RunWithoutDataAsync("audit", "new-key", key)).ExitCode);
        Assert.Equal(content, await File.ReadAllTextAsync(key));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        }
    }

    [Fact]
    public async Task An_admin_command_does_not_run_when_the_audit_log_cannot_be_written_unless_told_to_continue()
    {
        Directory.CreateDirectory(DataDirectory);
        var notAFolder = Path.Combine(DataDirectory, "not-a-folder");
        await File.WriteAllTextAsync(notAFolder, "a file where the audit folder should be");
        var refuse = await ConfigAsync("refuse.json", $$"""{ "Audit": { "Folder": {{JsonSerializer.Serialize(notAFolder)}} } }""");
        var carryOn = await ConfigAsync("continue.json", $$"""{ "Audit": { "Folder": {{JsonSerializer.Serialize(notAFolder)}}, "OnFailure": "Continue" } }""");

        var refused = await RunAsync("domain", "add", "example.com", "--config", refuse);
        Assert.Equal(ExitCodes.IoError, refused.ExitCode);
        Assert.Contains("audit log", refused.Error, StringComparison.Ordinal);
        Assert.Empty(await WithStoreAsync(store => store.ListDomainsAsync(CancellationToken.None)));

        var continued = await RunAsync("domain", "add", "example.com", "--config", carryOn);
        Assert.Equal(ExitCodes.Ok, continued.ExitCode);
        Assert.Contains("warning", continued.Error, StringComparison.Ordinal);
        Assert.Single(await WithStoreAsync(store => store.ListDomainsAsync(CancellationToken.None)));
    }

    [Fact]
    public async Task A_bad_audit_configuration_is_a_configuration_error()
    {
        var noKey = await ConfigAsync("nokey.json", """{ "Audit": { "Cipher": "aes-256-gcm" } }""");

        var result = await RunAsync("domain", "add", "example.com", "--config", noKey);

        Assert.Equal(ExitCodes.Config, result.ExitCode);
        Assert.Contains("Audit:KeyFile", result.Error, StringComparison.Ordinal);
        Assert.Empty(await WithStoreAsync(store => store.ListDomainsAsync(CancellationToken.None)));
        Assert.Equal(ExitCodes.Usage, (await RunAsync("audit", "show", "--config", noKey)).ExitCode);
    }

    [Fact]
    public async Task Show_filters_by_time()
    {
        await RunAsync("domain", "add", "example.com");
        var all = await ShowJsonAsync();
        Assert.NotEmpty(all);

        Assert.Empty(await ShowJsonAsync("--from", DateTimeOffset.UtcNow.AddHours(1).ToString("O", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Empty(await ShowJsonAsync("--to", "2000-01-01"));
        Assert.Equal(all.Count, (await ShowJsonAsync("--from", "2000-01-01")).Count);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("audit", "show", "--from", "yesterday-ish")).ExitCode);
    }

    [Fact]
    public async Task A_chosen_argument_cannot_forge_a_field_in_the_text_view()
    {
        await RunAsync("mailbox", "add", "evil\\\" user=root@example.com");

        var line = Assert.Single(Lines((await RunAsync("audit", "show", "--event", "admin")).Output));
        var fields = Fields(line);

        Assert.Equal(Environment.UserName, Assert.Single(fields, f => f.Key == "user").Value);
        Assert.Equal("mailbox add evil\\\" user=root@example.com", Assert.Single(fields, f => f.Key == "command").Value);
    }

    /// <summary>The key=value fields of a text line, as a careful reader splits them: quotes group, a backslash escapes.</summary>
    private static List<KeyValuePair<string, string>> Fields(string line)
    {
        var fields = new List<KeyValuePair<string, string>>();
        var i = 0;
        while (i < line.Length)
        {
            var space = line.IndexOf(' ', i);
            var equals = line.IndexOf('=', i);
            if (equals < 0 || (space >= 0 && space < equals))
            {
                i = space < 0 ? line.Length : space + 1;
                continue;
            }

            var key = line[i..equals];
            var value = new System.Text.StringBuilder();
            i = equals + 1;
            if (i < line.Length && line[i] == '"')
            {
                for (i++; i < line.Length && line[i] != '"'; i++)
                {
                    value.Append(line[i] == '\\' ? line[++i] : line[i]);
                }

                i += 2;
            }
            else
            {
                var end = line.IndexOf(' ', i);
                value.Append(end < 0 ? line[i..] : line[i..end]);
                i = end < 0 ? line.Length : end + 1;
            }

            fields.Add(new(key, value.ToString()));
        }

        return fields;
    }

    [Fact]
    public async Task Removing_a_mailbox_is_a_mailbox_deletion_and_reading_a_message_names_its_mailbox()
    {
        await RunAsync("domain", "add", "example.com");
        await RunAsync("mailbox", "add", "support@example.com");
        var id = await DeliverAsync("s@example.net", "support@example.com", "Subject: x\r\n\r\nx\r\n"u8.ToArray());
        await RunAsync("mail", "show", id);
        await RunAsync("mailbox", "remove", "support@example.com");

        var lines = Lines((await RunAsync("audit", "show", "--mailbox", "support@example.com", "--event", "mailbox.read,mailbox.delete")).Output);

        Assert.Equal(2, lines.Length);
        Assert.Contains($" mailbox.read ok user={Environment.UserName} ", lines[0], StringComparison.Ordinal);
        Assert.Contains($"message={id}", lines[0], StringComparison.Ordinal);
        Assert.Contains(" mailbox.delete ok ", lines[1], StringComparison.Ordinal);
    }

    private async Task<List<JsonElement>> ShowJsonAsync(params string[] filters)
    {
        var result = await RunAsync(["audit", "show", "--json", .. filters]);
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        return Lines(result.Output).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    private async Task<string> ConfigAsync(string name, string json)
    {
        Directory.CreateDirectory(DataDirectory);
        var path = Path.Combine(DataDirectory, name);
        await File.WriteAllTextAsync(path, json);
        return path;
    }

    private void AssertNowhereInAuditFiles(string secret)
    {
        Assert.True(Directory.Exists(AuditFolder));
        foreach (var file in Directory.EnumerateFiles(AuditFolder, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain(secret, File.ReadAllText(file), StringComparison.Ordinal);
        }
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
