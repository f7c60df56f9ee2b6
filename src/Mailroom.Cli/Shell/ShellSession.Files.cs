using System.Globalization;
using Mailroom.Cli.Send;

namespace Mailroom.Cli.Shell;

/// <summary>The shell commands that leave the mailbox: saving an attachment, composing a message.</summary>
internal sealed partial class ShellSession
{
    /// <summary>The sender for compose: the client configuration's From, else the log-in name.</summary>
    public string? From { get; init; }

    private async Task SaveAsync(string[] args, CancellationToken cancellationToken)
    {
        RequireMessage();
        _view ??= MessageView.Parse(_current!.Content);
        if (args.Length == 0)
        {
            throw new ShellUsageException("save N [PATH]: N is an attachment number from show");
        }

        var index = Number(args[0], "save N [PATH]: N is an attachment number from show");
        var attachment = _view.Attachments.FirstOrDefault(a => a.Index == index)
            ?? throw new ShellUsageException(string.Create(CultureInfo.InvariantCulture, $"this message has {_view.Attachments.Count} attachment(s)"));
        var path = Target(args.Length > 1 ? string.Join(' ', args[1..]) : null, attachment.FileName);

        // CreateNew: never overwrite, and never follow a link someone placed at that name.
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
        await using (file.ConfigureAwait(false))
        {
            await MessageView.WriteContentAsync(attachment.Entity, file, cancellationToken).ConfigureAwait(false);
            await _output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"saved {file.Length} bytes to {TerminalText.Safe(path)}")).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Where an attachment goes: PATH itself when it names a new file; inside it when it is a folder
    /// (or ends in a separator), under the attachment's own name with any directory parts taken off.
    /// </summary>
    private static string Target(string? path, string fileName)
    {
        if (path is null)
        {
            return Path.GetFullPath(fileName);
        }

        return Directory.Exists(path) || path.EndsWith('/') || path.EndsWith(Path.DirectorySeparatorChar)
            ? Path.Combine(Path.GetFullPath(path), fileName)
            : Path.GetFullPath(path);
    }

    private async Task ComposeAsync(string[] args, CancellationToken cancellationToken)
    {
        var to = await PromptAsync("To: ", cancellationToken).ConfigureAwait(false);
        var subject = await PromptAsync("Subject: ", cancellationToken).ConfigureAwait(false);
        if (_interactive)
        {
            await _output.WriteLineAsync("the text; end it with a line holding a single \".\"").ConfigureAwait(false);
        }

        var text = new System.Text.StringBuilder();
        while (await _input.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line && line != ".")
        {
            text.Append(line).Append('\n');
        }

        var recipients = (to ?? string.Empty).Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (recipients.Length == 0)
        {
            throw new ShellUsageException("not sent: no recipient");
        }

        var from = From ?? _user;
        var message = MessageBuilder.Build(new Composition(from, recipients, [], subject, text.ToString(), null, [], []));
        var content = await MessageBuilder.SerializeAsync(message, eightBit: false, cancellationToken).ConfigureAwait(false);
        await using (content.ConfigureAwait(false))
        {
            var result = await _connection.SendAsync(message.From.Mailboxes.First().Address, recipients, content, content.Length, null, cancellationToken).ConfigureAwait(false);
            await SendCommand.ReportAsync(result, recipients.Length, _output, _error).ConfigureAwait(false);
        }
    }
}
