using System.Globalization;
using Mailroom.Cli.Send;
using Mailroom.Client;

namespace Mailroom.Cli.Shell;

/// <summary>
/// The read-eval loop of <c>mailroom shell</c> on one logged-in connection: one table of commands,
/// each a line of help and a handler. Refusals from the server print its reply and the loop goes on;
/// a broken connection (<see cref="SmtpProtocolException"/>, I/O) ends it, for the caller to map.
/// </summary>
internal sealed partial class ShellSession
{
    private readonly SmtpConnection _connection;
    private readonly TextReader _input;
    private readonly TextWriter _output;
    private readonly TextWriter _error;
    private readonly bool _interactive;
    private readonly string _user;
    private readonly List<string> _history = [];
    private readonly IReadOnlyList<ShellVerb> _verbs;

    private string? _mailbox;
    private IReadOnlyList<MailboxListing> _listing = [];
    private MailboxMessage? _current;
    private MessageView? _view;

    public ShellSession(SmtpConnection connection, string user, TextReader input, TextWriter output, TextWriter error, bool interactive, ShellTrace trace)
    {
        _connection = connection;
        _user = user;
        _input = input;
        _output = output;
        _error = error;
        _interactive = interactive;
        Trace = trace;
        _verbs =
        [
            new("help", "help", "list the commands", HelpAsync),
            new("open", "open [MAILBOX]", "open a mailbox (default: your own, " + user + ")", OpenAsync),
            new("list", "list", "the open mailbox's messages: #, from, subject, date, size, flags", ListAsync),
            new("show", "show [N]", "show message N (default: the current one): headers, text, attachments", ShowAsync),
            new("next", "next", "show the next message", (_, ct) => MoveAsync(forward: true, ct)),
            new("prev", "prev", "show the previous message", (_, ct) => MoveAsync(forward: false, ct)),
            new("flag", "flag important|read [on|off]", "set (or with off, clear) a flag on the current message", (a, ct) => FlagAsync(a, on: true, ct)),
            new("unflag", "unflag important|read", "clear a flag on the current message", (a, ct) => FlagAsync(a, on: false, ct)),
            new("delete", "delete | delete mailbox [--yes]", "move the current message (or the whole open mailbox) to the trash", DeleteAsync),
            new("save", "save N [PATH]", "save attachment N of the current message (a folder or a new file; never overwrites)", SaveAsync),
            new("compose", "compose", "write and send a message: To, Subject, then the text up to a line with a single \".\"", ComposeAsync),
            new("raw", "raw on|off", "show every command and reply on the wire (C: / S:)", RawAsync),
            new("history", "history", "the commands typed so far", HistoryAsync),
            new("logout", "logout", "log out (RTRN) and leave", (_, ct) => LeaveAsync(logOut: true, ct)),
            new("quit", "quit | exit", "leave (QUIT)", (_, ct) => LeaveAsync(logOut: false, ct)),
        ];
    }

    private ShellTrace Trace { get; }

    private bool _done;

    /// <summary>Runs commands until quit, logout or the end of the input; returns the exit code (0).</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        if (_interactive)
        {
            await _output.WriteLineAsync($"logged in as {_user}{(_connection.TlsDescription is { } tls ? $" over {tls}" : " WITHOUT TLS")}; type help for the commands").ConfigureAwait(false);
        }

        while (!_done)
        {
            var line = await PromptAsync("mailroom> ", cancellationToken).ConfigureAwait(false);
            if (line is null)
            {
                await LeaveAsync(logOut: false, cancellationToken).ConfigureAwait(false);
                break;
            }

            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (words.Length == 0 || words[0].StartsWith('#'))
            {
                continue;
            }

            _history.Add(line.Trim());
            var name = words[0].Equals("exit", StringComparison.OrdinalIgnoreCase) ? "quit" : words[0].ToLowerInvariant();
            var verb = _verbs.FirstOrDefault(v => v.Name == name);
            if (verb is null)
            {
                await _error.WriteLineAsync($"unknown command '{TerminalText.Safe(words[0])}'; type help for the commands").ConfigureAwait(false);
                continue;
            }

            try
            {
                await verb.Run(words[1..], cancellationToken).ConfigureAwait(false);
            }
            catch (SmtpCommandException refused)
            {
                // The command failed; the connection is fine (docs/PROTOCOL.md): say so and go on.
                await _error.WriteLineAsync($"{name}: {TerminalText.Safe(refused.Reply?.ToString().TrimEnd() ?? refused.Message)}").ConfigureAwait(false);
            }
            catch (ShellUsageException usage)
            {
                await _error.WriteLineAsync($"{name}: {usage.Message}").ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MimeKit.ParseException or FormatException or ArgumentException or UnauthorizedAccessException or IOException)
            {
                // A local failure (a file that exists, an address that does not parse); the library
                // reports a broken connection as SmtpProtocolException, which ends the shell.
                await _error.WriteLineAsync($"{name}: {TerminalText.Safe(ex.Message)}").ConfigureAwait(false);
            }

            await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>Where keys come from on a terminal (<see cref="Console.ReadKey(bool)"/>); without it, lines are read whole.</summary>
    public Func<ConsoleKeyInfo>? ReadKey { get; init; }

    private async Task<string?> PromptAsync(string prompt, CancellationToken cancellationToken)
    {
        if (_interactive)
        {
            await _output.WriteAsync(prompt).ConfigureAwait(false);
            await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (ReadKey is not null)
            {
                // On a terminal: a line editor with the history on Up and Down.
                return new LineEditor(ReadKey, _output, _history).ReadLine();
            }
        }

        return await _input.ReadLineAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task HelpAsync(string[] args, CancellationToken cancellationToken)
    {
        var width = _verbs.Max(v => v.Usage.Length);
        foreach (var verb in _verbs)
        {
            await _output.WriteLineAsync($"  {verb.Usage.PadRight(width)}  {verb.Help}").ConfigureAwait(false);
        }
    }

    private async Task OpenAsync(string[] args, CancellationToken cancellationToken)
    {
        var status = await _connection.OpenMailboxAsync(args.Length > 0 ? args[0] : _user, cancellationToken).ConfigureAwait(false);
        _mailbox = status.Mailbox;
        _current = null;
        _view = null;
        _listing = [];
        await _output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{TerminalText.Safe(status.Mailbox)}: {status.Messages} message(s), {status.Unread} unread")).ConfigureAwait(false);
    }

    private async Task ListAsync(string[] args, CancellationToken cancellationToken)
    {
        RequireMailbox();
        _listing = await _connection.ListAsync(cancellationToken).ConfigureAwait(false);
        await _output.WriteLineAsync($"{"#",4}  {"from",-28}  {"subject",-32}  {"date (UTC)",-16}  {"size",8}  flags").ConfigureAwait(false);
        foreach (var m in _listing)
        {
            var subject = m.Subject is null ? string.Empty : MimeKit.Utils.Rfc2047.DecodeText(System.Text.Encoding.UTF8.GetBytes(m.Subject));
            var date = m.Date?.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? string.Empty;
            await _output.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"{m.Number,4}  {Cell(m.From ?? "<>", 28)}  {Cell(subject, 32)}  {date,-16}  {m.Size,8}  {TerminalText.Safe(m.Flags)}")).ConfigureAwait(false);
        }

        await _output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{_listing.Count} message(s)")).ConfigureAwait(false);
    }

    private async Task ShowAsync(string[] args, CancellationToken cancellationToken)
    {
        RequireMailbox();
        if (args.Length == 0)
        {
            if (_current is null)
            {
                // Nothing shown yet: the first message, as "next" would.
                await MoveAsync(forward: true, cancellationToken).ConfigureAwait(false);
                return;
            }

            Show();
            return;
        }

        var number = Number(args[0], "show N: N is a message number from list");

        // The protocol pages one message at a time (NEXT, PREV), and each message it passes is
        // marked read: walk to the one asked for, and give back "unread" to those passed on the way.
        var unread = (await _connection.ListAsync(cancellationToken).ConfigureAwait(false))
            .Where(m => !m.Flags.Split(',').Contains("read", StringComparer.Ordinal)).Select(m => m.Number).ToHashSet();
        while (_current is null || _current.Number != number)
        {
            if (_current is not null && unread.Contains(_current.Number))
            {
                await _connection.FlagAsync(MailFlag.Read, on: false, cancellationToken).ConfigureAwait(false);
            }

            var forward = _current is null || _current.Number < number;
            var message = forward ? await _connection.NextAsync(cancellationToken).ConfigureAwait(false) : await _connection.PreviousAsync(cancellationToken).ConfigureAwait(false);
            if (message is null || (_current is not null && forward != (message.Number > _current.Number)))
            {
                throw new ShellUsageException(string.Create(CultureInfo.InvariantCulture, $"there is no message {number}"));
            }

            Current(message);
            if (forward ? message.Number > number : message.Number < number)
            {
                throw new ShellUsageException(string.Create(CultureInfo.InvariantCulture, $"there is no message {number}"));
            }
        }

        Show();
    }

    private async Task MoveAsync(bool forward, CancellationToken cancellationToken)
    {
        RequireMailbox();
        var message = forward ? await _connection.NextAsync(cancellationToken).ConfigureAwait(false) : await _connection.PreviousAsync(cancellationToken).ConfigureAwait(false);
        if (message is null)
        {
            throw new ShellUsageException(forward ? "no more messages" : "this is the first message");
        }

        Current(message);
        Show();
    }

    private void Current(MailboxMessage message)
    {
        _current = message;
        _view = null;
    }

    private void Show()
    {
        _view ??= MessageView.Parse(_current!.Content);
        _view.WriteTo(_output, _current!.Number);
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"flags: {TerminalText.Safe(_current.Flags)}"));
    }

    private async Task FlagAsync(string[] args, bool on, CancellationToken cancellationToken)
    {
        RequireMessage();
        var flag = args.Length > 0 ? args[0].ToLowerInvariant() : string.Empty;
        var which = flag switch
        {
            "important" => MailFlag.Important,
            "read" => MailFlag.Read,
            _ => throw new ShellUsageException("say which flag: important or read"),
        };
        if (on && args.Length > 1)
        {
            on = args[1].ToLowerInvariant() switch
            {
                "on" => true,
                "off" => false,
                _ => throw new ShellUsageException("on or off"),
            };
        }

        var flags = await _connection.FlagAsync(which, on, cancellationToken).ConfigureAwait(false);
        _current = _current! with { Flags = flags };
        await _output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"message {_current.Number}: flags {TerminalText.Safe(flags)}")).ConfigureAwait(false);
    }

    private async Task DeleteAsync(string[] args, CancellationToken cancellationToken)
    {
        if (args.Length > 0 && args[0].Equals("mailbox", StringComparison.OrdinalIgnoreCase))
        {
            var mailbox = RequireMailbox();
            if (!args.Skip(1).Contains("--yes") && !await ConfirmAsync($"move every message of {mailbox} to the trash? type yes: ", cancellationToken).ConfigureAwait(false))
            {
                throw new ShellUsageException(_interactive ? "not deleted" : "not deleted: from a script, say \"delete mailbox --yes\"");
            }

            var moved = await _connection.DeleteMailboxAsync(mailbox, cancellationToken).ConfigureAwait(false);
            _current = null;
            _view = null;
            await _output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{moved} message(s) moved to the trash")).ConfigureAwait(false);
            return;
        }

        if (args.Length > 0)
        {
            throw new ShellUsageException("delete (the current message) or delete mailbox");
        }

        var number = RequireMessage().Number;
        var count = await _connection.DeleteCurrentAsync(cancellationToken).ConfigureAwait(false);
        _view = null;
        await _output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"message {number}: {count} message(s) moved to the trash")).ConfigureAwait(false);
    }

    private async Task<bool> ConfirmAsync(string question, CancellationToken cancellationToken)
    {
        if (!_interactive)
        {
            return false;
        }

        return (await PromptAsync(question, cancellationToken).ConfigureAwait(false))?.Trim().Equals("yes", StringComparison.OrdinalIgnoreCase) == true;
    }

    private async Task RawAsync(string[] args, CancellationToken cancellationToken)
    {
        Trace.Enabled = args.Length switch
        {
            0 => !Trace.Enabled,
            _ => args[0].ToLowerInvariant() switch
            {
                "on" => true,
                "off" => false,
                _ => throw new ShellUsageException("raw on or raw off"),
            },
        };
        await _output.WriteLineAsync($"raw {(Trace.Enabled ? "on" : "off")}").ConfigureAwait(false);
    }

    private async Task HistoryAsync(string[] args, CancellationToken cancellationToken)
    {
        for (var i = 0; i < _history.Count; i++)
        {
            await _output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{i + 1,4}  {TerminalText.Safe(_history[i])}")).ConfigureAwait(false);
        }
    }

    private async Task LeaveAsync(bool logOut, CancellationToken cancellationToken)
    {
        _done = true;
        if (logOut && _connection.AuthenticatedUser is not null)
        {
            await _connection.LogOutAsync(cancellationToken).ConfigureAwait(false);
            await _output.WriteLineAsync("logged out").ConfigureAwait(false);
        }

        await _connection.QuitAsync(cancellationToken).ConfigureAwait(false);
    }

    private string RequireMailbox() => _mailbox ?? throw new ShellUsageException("no mailbox is open: open [MAILBOX] first");

    private MailboxMessage RequireMessage()
    {
        RequireMailbox();
        return _current ?? throw new ShellUsageException("no message is shown: show N, or next, first");
    }

    private static int Number(string text, string usage) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ShellUsageException(usage);

    private static string Cell(string text, int width)
    {
        var safe = TerminalText.Safe(text).Replace('\n', ' ').Replace('\t', ' ');
        return safe.Length <= width ? safe.PadRight(width) : string.Concat(safe.AsSpan(0, width - 1), "…");
    }

    private sealed record ShellVerb(string Name, string Usage, string Help, Func<string[], CancellationToken, Task> Run);
}

/// <summary>A command used wrongly, or asked for something that is not there: a line of text, and the shell goes on.</summary>
internal sealed class ShellUsageException : Exception
{
    public ShellUsageException()
    {
    }

    public ShellUsageException(string message)
        : base(message)
    {
    }

    public ShellUsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Prints the wire, C: and S:, while enabled (<c>--raw</c>, <c>raw on</c>); secrets arrive already redacted.</summary>
internal sealed class ShellTrace(TextWriter output)
{
    public bool Enabled { get; set; }

    public void Line(bool fromServer, string line)
    {
        if (Enabled)
        {
            output.WriteLine($"{(fromServer ? "S" : "C")}: {TerminalText.Safe(line)}");
        }
    }
}
