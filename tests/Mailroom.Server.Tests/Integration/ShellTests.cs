using System.Diagnostics;
using System.Text;
using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;
using MimeKit;

namespace Mailroom.Server.Tests.Integration;

/// <summary>
/// <c>mailroom shell</c> as a real process driven through a pipe, as a script (or a person with
/// <c>echo ... |</c>) runs it: pinned STARTTLS, AUTH, then the mailbox commands over loopback.
/// </summary>
public sealed class ShellTests : IDisposable
{
    private const string Alice = "alice@example.test";

    private static readonly Encoding Latin1 = Encoding.Latin1;

    /// <summary>"Grüße aus Köln" in ISO-8859-1, then bytes no charset makes text, and a line that looks like the end of DATA.</summary>
    private static readonly byte[] AttachmentBytes = [.. Latin1.GetBytes("Grüße aus Köln\r\n"), 0x00, 0xFF, 0x80, 0x1B, .. "\r\n.\r\nend"u8.ToArray()];

    private readonly string _folder = Directory.CreateTempSubdirectory("mailroom-shell-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Piped_shell_reads_a_latin1_quoted_printable_message_and_saves_its_non_ascii_attachment_byte_for_byte()
    {
        await using var server = await LoopbackServer.StartAsync(tls: true, role: ListenerRole.Submission, auth: true);
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Jörg Müller", "joerg@remote.test"));
        message.To.Add(MailboxAddress.Parse(Alice));
        message.Subject = "Grüße aus Köln";
        message.Date = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.FromHours(2));
        var text = new TextPart("plain") { ContentTransferEncoding = ContentEncoding.QuotedPrintable };

        // An escape sequence a hostile sender hopes the terminal will obey (clear the screen).
        text.SetText("iso-8859-1", "Liebe Grüße aus Köln,\nbis bald \u001b[2J\n");
        var attachment = new MimePart("application", "octet-stream")
        {
            FileName = "Grüße.txt",
            Content = new MimeContent(new MemoryStream(AttachmentBytes)),
            ContentTransferEncoding = ContentEncoding.Base64,
        };
        var escaping = new MimePart("text", "plain")
        {
            FileName = "../escape.txt",
            Content = new MimeContent(new MemoryStream("outside?"u8.ToArray())),
        };
        message.Body = new Multipart("mixed") { text, attachment, escaping };
        await StoreAsync(server, Alice, message);
        var saved = Directory.CreateDirectory(Path.Combine(_folder, "saved")).FullName;

        var (exit, output, error) = await ShellAsync(server, $"open\nlist\nshow 1\nsave 1 {saved}/\nsave 2 {saved}/\nsave 1 {saved}/\nquit\n");

        Assert.True(exit == 0, output + error);
        Assert.Matches(@"(?m)^\s+1  sender@remote\.test\s+Grüße aus Köln\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+\d+  none$", output);
        Assert.Contains("From: \"Jörg Müller\" <joerg@remote.test>", output, StringComparison.Ordinal);
        Assert.Contains("Subject: Grüße aus Köln", output, StringComparison.Ordinal);
        Assert.Contains("Liebe Grüße aus Köln,\nbis bald \uFFFD[2J", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', output);
        Assert.Contains("attachments: 2", output, StringComparison.Ordinal);
        Assert.Contains($"  1  Grüße.txt  application/octet-stream  {AttachmentBytes.Length} bytes", output, StringComparison.Ordinal);
        Assert.Contains("  2  escape.txt  text/plain  8 bytes", output, StringComparison.Ordinal);
        Assert.Equal(AttachmentBytes, await File.ReadAllBytesAsync(Path.Combine(saved, "Grüße.txt")));

        // The sender's "../" does not choose the folder; the third save refuses to overwrite.
        Assert.Equal("outside?", await File.ReadAllTextAsync(Path.Combine(saved, "escape.txt")));
        Assert.False(File.Exists(Path.Combine(_folder, "escape.txt")));
        Assert.Contains("save: ", error, StringComparison.Ordinal);
        Assert.Equal(AttachmentBytes, await File.ReadAllBytesAsync(Path.Combine(saved, "Grüße.txt")));
    }

    [Fact]
    public async Task Piped_next_prev_flag_and_delete_change_the_store_and_delete_mailbox_needs_yes()
    {
        await using var server = await LoopbackServer.StartAsync(tls: true, role: ListenerRole.Submission, auth: true);
        var ids = new List<string>();
        foreach (var subject in new[] { "one", "two", "three" })
        {
            ids.Add(await StoreAsync(server, Alice, Encoding.ASCII.GetBytes($"Subject: {subject}\r\n\r\nbody {subject}\r\n")));
        }

        var (exit, output, error) = await ShellAsync(server, "open INBOX\nnext\nnext\nflag important\nunflag read\nprev\nflag read off\nnext\nnext\ndelete\nnonsense\ndelete mailbox\nquit\n");

        Assert.True(exit == 0, output + error);
        Assert.Contains("body two", output, StringComparison.Ordinal);
        Assert.Contains("message 2: flags important", output, StringComparison.Ordinal);
        Assert.Contains("message 3: 1 message(s) moved to the trash", output, StringComparison.Ordinal);
        Assert.Contains("unknown command 'nonsense'", error, StringComparison.Ordinal);
        Assert.Contains("delete mailbox --yes", error, StringComparison.Ordinal);
        var entries = await EntriesAsync(server);
        Assert.Equal(ids[..2], entries.Select(e => e.MessageId));
        Assert.False(entries[0].Read);
        Assert.False(entries[0].Important);
        Assert.True(entries[1].Important);

        // "unflag read" took, and showing it again (the second "next") read it again.
        Assert.True(entries[1].Read);

        (exit, output, error) = await ShellAsync(server, "open\ndelete mailbox --yes\nlist\nquit\n");
        Assert.True(exit == 0, output + error);
        Assert.Contains("2 message(s) moved to the trash", output, StringComparison.Ordinal);
        Assert.Empty(await EntriesAsync(server));
    }

    [Fact]
    public async Task Show_n_leaves_the_messages_it_walks_past_unread()
    {
        await using var server = await LoopbackServer.StartAsync(tls: true, role: ListenerRole.Submission, auth: true);
        foreach (var subject in new[] { "one", "two", "three" })
        {
            await StoreAsync(server, Alice, Encoding.ASCII.GetBytes($"Subject: {subject}\r\n\r\nbody {subject}\r\n"));
        }

        var (exit, output, error) = await ShellAsync(server, "open\nshow 3\nshow 1\nquit\n");

        Assert.True(exit == 0, output + error);
        Assert.Contains("body three", output, StringComparison.Ordinal);
        Assert.Contains("body one", output, StringComparison.Ordinal);
        Assert.Equal([true, false, true], (await EntriesAsync(server)).Select(e => e.Read));
    }

    [Fact]
    public async Task Piped_compose_sends_through_the_same_connection_and_the_store_holds_it()
    {
        await using var server = await LoopbackServer.StartAsync(tls: true, role: ListenerRole.Submission, auth: true);

        var (exit, output, error) = await ShellAsync(server, "compose\nbob@example.test\nGrüße von Alice\nErste Zeile\n..not the end\nletzte Zeile\n.\nquit\n");

        Assert.True(exit == 0, output + error);
        var summary = Assert.Single(await server.Store.ListMessagesAsync("bob@example.test", CancellationToken.None));
        Assert.Contains($"the server's id for it: {summary.MessageId}", output, StringComparison.Ordinal);
        await using var stored = (await server.Store.OpenMessageAsync(summary.MessageId, CancellationToken.None))!;
        var message = await MimeMessage.LoadAsync(stored);
        Assert.Equal("Grüße von Alice", message.Subject);
        Assert.Equal(Alice, message.From.Mailboxes.Single().Address);
        Assert.Equal("Erste Zeile\n..not the end\nletzte Zeile\n", message.TextBody!.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Raw_shows_the_wire_but_never_the_password()
    {
        await using var server = await LoopbackServer.StartAsync(tls: true, role: ListenerRole.Submission, auth: true);

        var (exit, output, error) = await ShellAsync(server, "open\nraw off\nlist\nquit\n", "--raw");

        Assert.True(exit == 0, output + error);
        Assert.Matches("(?m)^C: EHLO ", output);
        Assert.Matches("(?m)^S: 250[ -]", output);
        Assert.Matches("(?m)^C: STARTTLS", output);
        Assert.Matches("(?m)^C: AUTH ", output);
        Assert.Matches("(?m)^C: READ alice@example.test", output);
        Assert.DoesNotMatch("(?m)^C: LIST", output);
        Assert.DoesNotContain(LoopbackServer.Password, output + error, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{Alice}\0{LoopbackServer.Password}")), output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_password_exits_77_with_the_servers_reply_and_runs_no_command()
    {
        await using var server = await LoopbackServer.StartAsync(tls: true, role: ListenerRole.Submission, auth: true);
        await StoreAsync(server, Alice, "Subject: secret\r\n\r\nsecret\r\n"u8.ToArray());

        var (exit, output, error) = await ShellAsync(server, "open\nlist\nquit\n", password: "not it");

        Assert.True(exit == 77, $"{exit}: {output}{error}");
        Assert.Empty(output);
        Assert.StartsWith("mailroom shell: ", error, StringComparison.Ordinal);
        Assert.Matches(@"\b535\b", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task Caesar_is_used_when_asked_and_the_shell_says_it_is_not_encryption()
    {
        await using var server = await LoopbackServer.StartAsync(new SmtpServerOptions { AllowCaesarObfuscation = true, AllowPlaintextAuthOnLoopback = true, MailboxCommandsOnMx = true }, auth: true);
        await StoreAsync(server, Alice, "Subject: rot3\r\n\r\nshifted\r\n"u8.ToArray());

        var (exit, output, error) = await MailroomAsync(
            ["shell", "--server", $"127.0.0.1:{server.Port}", "--tls", "none", "--caesar", "3", "--raw", "--user", Alice, "--password-stdin"],
            LoopbackServer.Password + "\nopen\nshow 1\nquit\n");

        Assert.True(exit == 0, output + error);
        Assert.Contains("not encryption", error, StringComparison.Ordinal);
        Assert.Matches("(?m)^C: XCAESAR 3", output);
        Assert.Contains("shifted", output, StringComparison.Ordinal);
        Assert.DoesNotContain(LoopbackServer.Password, output + error, StringComparison.Ordinal);
    }

    private static async Task<IReadOnlyList<MailboxEntry>> EntriesAsync(LoopbackServer server)
    {
        var mailbox = (await server.Store.FindMailboxAsync(Alice, CancellationToken.None))!;
        var account = (await server.Store.FindAccountAsync(Alice, CancellationToken.None))!;
        return await server.Store.ListMailboxAsync(mailbox.Id, account.Id, CancellationToken.None);
    }

    private static async Task<string> StoreAsync(LoopbackServer server, string address, MimeMessage message)
    {
        using var bytes = new MemoryStream();
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        await message.WriteToAsync(options, bytes);
        return await StoreAsync(server, address, bytes.ToArray());
    }

    /// <summary>Delivers raw bytes straight into a mailbox, as the receiver would have stored them.</summary>
    private static async Task<string> StoreAsync(LoopbackServer server, string address, byte[] body)
    {
        var mailbox = (await server.Store.FindMailboxAsync(address, CancellationToken.None))!;
        var id = MessageIds.New();
        await using var writer = await server.Store.BeginMessageAsync(new MessageEnvelope(id, "sender@remote.test", [new EnvelopeRecipient(mailbox, address)], DateTimeOffset.UtcNow), CancellationToken.None);
        await writer.WriteAsync(body, CancellationToken.None);
        await writer.CommitAsync(CancellationToken.None);
        return id;
    }

    private Task<(int Exit, string Output, string Error)> ShellAsync(LoopbackServer server, string commands, string? extra = null, string password = LoopbackServer.Password)
    {
        string[] args = ["shell", "--server", $"127.0.0.1:{server.Port}", "--tls", "starttls", "--tls-fingerprint", server.Certificates!.Fingerprint, "--user", Alice, "--password-stdin"];
        return MailroomAsync(extra is null ? args : [.. args, extra], password + "\n" + commands);
    }

    /// <summary>Runs the real <c>mailroom</c> program with <paramref name="input"/> on standard input; no client.json, no MAILROOM_PASSWORD.</summary>
    private async Task<(int Exit, string Output, string Error)> MailroomAsync(string[] args, string input)
    {
        var start = Mailroom.Testing.MailroomProgram.StartInfo(args);
        start.StandardInputEncoding = new UTF8Encoding(false);
        start.StandardOutputEncoding = Encoding.UTF8;
        start.StandardErrorEncoding = Encoding.UTF8;
        start.WorkingDirectory = _folder;

        var config = Path.Combine(_folder, "empty-client.json");
        await File.WriteAllTextAsync(config, "{}");
        start.Environment["MAILROOM_CLIENT_CONFIG"] = config;
        start.Environment.Remove("MAILROOM_PASSWORD");
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
