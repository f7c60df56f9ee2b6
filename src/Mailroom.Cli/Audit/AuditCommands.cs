using System.CommandLine;
using System.Globalization;
using Mailroom.Cli.Admin;
using Mailroom.Cli.Serve;
using Mailroom.Core.Audit;
using Microsoft.Extensions.Configuration;

namespace Mailroom.Cli.Audit;

/// <summary>
/// <c>mailroom audit show|verify|new-key</c>: read the audit log (decrypted and filtered), prove
/// its chain is whole, and make a key for its encryption. They read the log's files and never
/// write them, so they run beside a server that is writing.
/// </summary>
public static class AuditCommands
{
    public static Command Create()
    {
        var audit = new Command("audit", "Read and verify the audit log");
        audit.Subcommands.Add(Show());
        audit.Subcommands.Add(Verify());
        audit.Subcommands.Add(NewKey());
        return audit;
    }

    /// <summary>sysexits EX_NOINPUT: there is no log where one was expected.</summary>
    public const int NoInput = 66;

    private sealed record Location(AuditSettings Settings, IReadOnlyList<string> Paths);

    private static Command Show()
    {
        var options = new LocationOptions();
        var keyFiles = new Option<string[]>("--key-file") { Description = "An AES-256-GCM key to decrypt with, besides the configured ones; repeatable" };
        var from = new Option<string?>("--from") { Description = "Only entries at or after this UTC time (2026-11-28 or 2026-11-28T14:00:00Z)" };
        var to = new Option<string?>("--to") { Description = "Only entries before this UTC time" };
        var user = new Option<string?>("--user") { Description = "Only entries of this user" };
        var session = new Option<string?>("--session") { Description = "Only entries of this session" };
        var client = new Option<string?>("--client") { Description = "Only entries from this client address (with or without :port)" };
        var mailbox = new Option<string?>("--mailbox") { Description = "Only entries about this mailbox" };
        var events = new Option<string[]>("--event")
        {
            Description = "Only these kinds of event, repeatable or comma-separated (command, login, message, mailbox.read, mailbox.delete; 'mailbox' means every mailbox action)",
        };
        var json = new Option<bool>("--json") { Description = "Print JSON lines (decrypted) instead of text" };
        var command = new Command("show", "Print the audit log, decrypted, merged in time order and filtered");
        options.AddTo(command);
        command.Options.Add(keyFiles);
        command.Options.Add(from);
        command.Options.Add(to);
        command.Options.Add(user);
        command.Options.Add(session);
        command.Options.Add(client);
        command.Options.Add(mailbox);
        command.Options.Add(events);
        command.Options.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var location = options.Resolve(parse);
                var keyring = location.Settings.Keyring(parse.GetValue(keyFiles) ?? []);
                var filter = new AuditFilter
                {
                    From = ParseTime(parse.GetValue(from), "--from"),
                    To = ParseTime(parse.GetValue(to), "--to"),
                    User = parse.GetValue(user),
                    Session = parse.GetValue(session),
                    Client = parse.GetValue(client),
                    Mailbox = parse.GetValue(mailbox),
                    Kinds = (parse.GetValue(events) ?? []).SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray() is { Length: > 0 } kinds ? kinds : null,
                };
                var asJson = parse.GetValue(json);
                var count = 0;
                foreach (var record in AuditReader.Read(location.Paths, keyring, filter))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    await output.WriteLineAsync(asJson ? AuditPrinter.Json(record) : AuditPrinter.Line(record)).ConfigureAwait(false);
                    count++;
                }

                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is AuditLogException or IOException or ArgumentException or FormatException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"mailroom audit show: {ex.Message}").ConfigureAwait(false);
                return ex is FormatException or ArgumentException ? ExitCodes.Usage : ExitCodes.IoError;
            }
        });
        return command;
    }

    private static Command Verify()
    {
        var options = new LocationOptions();
        var chainKey = new Option<string?>("--chain-key-file") { Description = "The chain's HMAC key (default: Audit:ChainKeyFile, DATA/keys/audit-chain.key)" };
        var command = new Command("verify", "Check the audit log's hash chain: say whether anything was edited, removed, reordered or inserted, and where");
        options.AddTo(command);
        command.Options.Add(chainKey);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var location = options.Resolve(parse);
                var keyFile = parse.GetValue(chainKey) ?? location.Settings.ChainKeyFile;
                if (!File.Exists(keyFile))
                {
                    await error.WriteLineAsync($"mailroom audit verify: no chain key at {keyFile}").ConfigureAwait(false);
                    return NoInput;
                }

                var result = AuditVerifier.Verify(location.Paths, AuditKeys.ReadKeyFile(keyFile));
                if (result.Streams.Count == 0)
                {
                    await error.WriteLineAsync($"mailroom audit verify: no audit log in {string.Join(", ", location.Paths)}").ConfigureAwait(false);
                    return NoInput;
                }

                foreach (var stream in result.Streams)
                {
                    await output.WriteLineAsync(AuditPrinter.Verification(stream)).ConfigureAwait(false);
                    foreach (var note in stream.Notes)
                    {
                        await output.WriteLineAsync($"  note: {AuditPrinter.Clean(note)}").ConfigureAwait(false);
                    }
                }

                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                return result.Intact ? ExitCodes.Ok : ExitCodes.DataError;
            }
            catch (Exception ex) when (ex is AuditLogException or IOException or ArgumentException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"mailroom audit verify: {ex.Message}").ConfigureAwait(false);
                return ex is ArgumentException ? ExitCodes.Usage : ExitCodes.IoError;
            }
        });
        return command;
    }

    private static Command NewKey()
    {
        var file = new Argument<string>("file") { Description = "Where to write the new key (readable by its owner only); an existing file is never overwritten" };
        var command = new Command("new-key", "Make a random AES-256-GCM key for Audit:KeyFile");
        command.Arguments.Add(file);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = Path.GetFullPath(parse.GetValue(file)!);
            try
            {
                AuditKeys.CreateKeyFile(path);
            }
            catch (Exception ex) when (ex is AuditLogException or IOException or UnauthorizedAccessException)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"mailroom audit new-key: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.IoError;
            }

            var id = AuditKeys.KeyId(AuditKeys.ReadKeyFile(path));
            await parse.InvocationConfiguration.Output.WriteLineAsync($"wrote key {id} to {path}").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static DateTimeOffset? ParseTime(string? text, string option) =>
        text is null ? null
        : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time) ? time
        : throw new FormatException($"{option} '{text}' is not a time (for example 2026-11-28 or 2026-11-28T14:00:00Z)");

    /// <summary>Where the log is: the configured folder, or the folders and files named with <c>--log</c> (other nodes' logs, copies).</summary>
    private sealed class LocationOptions
    {
        private readonly Option<string?> _data = new("--data") { Description = "The data folder (default: Data in the configuration, else ./data)" };
        private readonly Option<string?> _config = new("--config") { Description = "The configuration file the server uses (default: ./mailroom.json if present)" };
        private readonly Option<string[]> _logs = new("--log") { Description = "An audit folder or file to read instead of the configured one; repeatable (several nodes' logs merge in time order)" };

        public void AddTo(Command command)
        {
            command.Options.Add(_data);
            command.Options.Add(_config);
            command.Options.Add(_logs);
        }

        public Location Resolve(ParseResult parse)
        {
            var flags = new Dictionary<string, string?>();
            if (parse.GetValue(_data) is { Length: > 0 } data)
            {
                flags["Data"] = data;
            }

            var configuration = ServeCommand.BuildConfiguration(Directory.GetCurrentDirectory(), parse.GetValue(_config), flags);
            var dataDirectory = configuration["Data"] is { Length: > 0 } configured ? configured : "data";
            var settings = AuditSettings.From(AuditSettings.OverServerSettings(dataDirectory, configuration), dataDirectory);
            var logs = parse.GetValue(_logs) is { Length: > 0 } named ? named.Select(Path.GetFullPath).ToArray() : [settings.Folder];
            return new Location(settings, logs);
        }
    }
}
