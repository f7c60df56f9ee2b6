using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Mailroom.Cli.Audit;
using Mailroom.Cli.Serve;
using Mailroom.Core.Audit;
using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;
using Mailroom.Server;

namespace Mailroom.Cli.Admin;

/// <summary>What an admin command works with: the open store, the audit log, and the invocation's writers.</summary>
internal sealed record AdminContext(ParseResult ParseResult, StoreSettings StoreSettings, IMailStore? OpenStore, TextWriter Output, TextWriter Error, CancellationToken CancellationToken)
{
    /// <summary>The open store; every admin command has one except the <c>db</c> commands, which work on the schema itself.</summary>
    public IMailStore Store => OpenStore ?? throw new InvalidOperationException("This command runs without opening the store.");

    /// <summary>Where a command records what it did beyond its own <c>admin</c> entry (a restore, a message read).</summary>
    public IAuditLog Audit { get; init; } = NullAuditLog.Instance;

    /// <summary>An event of this invocation: the operating-system user, from this machine, through the CLI.</summary>
    public AuditEvent Event(string kind, AuditOutcome outcome = AuditOutcome.Ok) => new()
    {
        Kind = kind,
        Outcome = outcome,
        Timestamp = DateTimeOffset.UtcNow,
        Session = Session,
        Client = "local",
        Listener = "cli",
        User = Environment.UserName,
    };

    public string Session { get; } = MessageIds.New();
}

/// <summary>
/// The one place where admin commands open the store and the audit log, where their failures
/// become one line on standard error and a sysexits code, and where each run is audited: the
/// command, its arguments (secrets redacted) and its exit code, on disk before the process exits.
/// </summary>
internal static class AdminAction
{
    /// <summary>Another admin command may hold the admin stream's lock for a moment.</summary>
    private static readonly TimeSpan AuditLockTimeout = TimeSpan.FromSeconds(10);

    public static void Set(Command command, Option<string> data, Func<AdminContext, Task<int>> body) => Set(command, data, opensStore: true, body);

    /// <summary>
    /// As <see cref="Set(Command, Option{string}, Func{AdminContext, Task{int}})"/>; with
    /// <paramref name="opensStore"/> false the command gets the store's settings but no open
    /// store (<c>db migrate</c> runs where opening would refuse the schema).
    /// </summary>
    public static void Set(Command command, Option<string> data, bool opensStore, Func<AdminContext, Task<int>> body)
    {
        // The server's configuration file, for the audit log's settings (its cipher and keys).
        var config = new Option<string?>("--config") { Description = "The configuration file the server uses (default: ./mailroom.json if present)" };
        command.Options.Add(config);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            FileAuditLog? audit = null;
            try
            {
                var dataDirectory = parseResult.GetValue(data)!;
                AuditSettings settings;
                StoreSettings storeSettings;
                try
                {
                    // The server's own settings first (left in the data folder by mailroom serve), then ours.
                    var configuration = ServeCommand.BuildConfiguration(Directory.GetCurrentDirectory(), parseResult.GetValue(config), new Dictionary<string, string?>());
                    settings = AuditSettings.From(AuditSettings.OverServerSettings(dataDirectory, configuration), dataDirectory);
                    storeSettings = StoreSettings.From(StoreSettings.OverServerSettings(dataDirectory, configuration), dataDirectory);
                }
                catch (Exception exception) when (exception is FileNotFoundException or InvalidDataException or FormatException or InvalidOperationException or ArgumentException)
                {
                    return Fail(error, $"configuration error: {exception.Message}", ExitCodes.Config);
                }

                var store = opensStore ? await storeSettings.OpenAsync(cancellationToken).ConfigureAwait(false) : null;
                try
                {
                    audit = await OpenAuditAsync(settings, error, cancellationToken).ConfigureAwait(false);
                    var context = new AdminContext(parseResult, storeSettings, store, output, error, cancellationToken) { Audit = (IAuditLog?)audit ?? NullAuditLog.Instance };
                    int exitCode;
                    try
                    {
                        exitCode = await body(context).ConfigureAwait(false);
                    }
                    catch (Exception exception)
                    {
                        // Whatever ended the command (a refusal, the store, Ctrl-C, a closed pipe, a bug) is on record.
                        exitCode = ExitCodeOf(exception);
                        await RecordAsync(context, settings, exitCode, error).ConfigureAwait(false);
                        throw;
                    }

                    return await RecordAsync(context, settings, exitCode, error).ConfigureAwait(false);
                }
                finally
                {
                    if (store is not null)
                    {
                        await store.DisposeAsync().ConfigureAwait(false);
                    }
                }
            }
            catch (AdminException exception)
            {
                return Fail(error, exception.Message, exception.ExitCode);
            }
            catch (DirectoryConflictException exception)
            {
                return Fail(error, exception.Message, ExitCodes.DataError);
            }
            catch (SchemaVersionException exception)
            {
                return Fail(error, $"the store cannot be used yet: {exception.Message}", ExitCodes.IoError);
            }
            catch (StorageException exception)
            {
                return Fail(error, $"the store failed: {exception.Message}", ExitCodes.IoError);
            }
            catch (AuditLogException exception)
            {
                return Fail(error, $"the audit log cannot be written, so nothing was done: {exception.Message}", ExitCodes.IoError);
            }
            finally
            {
                if (audit is not null)
                {
                    await audit.DisposeAsync().ConfigureAwait(false);
                }
            }
        });
    }

    /// <summary>
    /// Opens the admin stream. When it cannot be opened, the command does not run under the
    /// refuse policy (the exception reaches <see cref="Set"/>); under the continue policy it runs
    /// unaudited, with a warning.
    /// </summary>
    private static async Task<FileAuditLog?> OpenAuditAsync(AuditSettings settings, TextWriter error, CancellationToken cancellationToken)
    {
        if (!settings.Enabled)
        {
            return null;
        }

        try
        {
            return await FileAuditLog.OpenAsync(settings.LogOptions(AuditSettings.AdminStream, AuditLockTimeout), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (AuditLogException exception) when (settings.OnFailure == AuditFailurePolicy.Continue)
        {
            await error.WriteLineAsync($"mailroom: warning: running without the audit log: {exception.Message}").ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>The command's <c>admin</c> entry, on disk before the process exits; its exit code, unless the entry could not be written.</summary>
    private static async Task<int> RecordAsync(AdminContext context, AuditSettings settings, int exitCode, TextWriter error)
    {
        var entry = context.Event(AuditKinds.Admin, exitCode == ExitCodes.Ok ? AuditOutcome.Ok : AuditOutcome.Refused) with
        {
            Command = CommandPath(context.ParseResult.CommandResult),
            Arguments = Arguments(context.ParseResult.CommandResult),
            Reply = string.Create(CultureInfo.InvariantCulture, $"exit {exitCode}"),
        };
        try
        {
            // Not the command's token: a command cut short by Ctrl-C is still recorded.
            await context.Audit.RecordDurableAsync(entry, CancellationToken.None).ConfigureAwait(false);
            return exitCode;
        }
        catch (AuditLogException exception) when (settings.OnFailure == AuditFailurePolicy.Continue)
        {
            await error.WriteLineAsync($"mailroom: warning: the command ran, but its audit entry could not be written: {exception.Message}").ConfigureAwait(false);
            return exitCode;
        }
        catch (AuditLogException exception)
        {
            await error.WriteLineAsync($"mailroom: the command ran, but its audit entry could not be written: {exception.Message}").ConfigureAwait(false);
            return ExitCodes.IoError;
        }
    }

    /// <summary>"mailbox restore": the subcommands below the root.</summary>
    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? current = result; current is CommandResult command && command.Parent is not null; current = current.Parent)
        {
            names.Insert(0, command.Command.Name);
        }

        return string.Join(' ', names);
    }

    /// <summary>
    /// The arguments and options as given, except the data folder (every command has it) and the
    /// value of any option whose name speaks of a password, a secret or a key: redacted here,
    /// where the entry is built. Passwords are read from a prompt or standard input, never from
    /// arguments, so this is a second line of defence.
    /// </summary>
    private static string? Arguments(CommandResult result)
    {
        var parts = new List<string>();
        foreach (var child in result.Children)
        {
            switch (child)
            {
                case ArgumentResult argument:
                    parts.AddRange(argument.Tokens.Select(t => t.Value));
                    break;
                case OptionResult { Implicit: false } option when option.Option.Name is not ("--data" or "--config"):
                    parts.Add(option.Option.Name);
                    parts.AddRange(option.Tokens.Select(t => IsSecret(option.Option.Name) ? AuditEvent.Redacted : t.Value));
                    break;
                default:
                    break;
            }
        }

        return parts.Count == 0 ? null : string.Join(' ', parts);
    }

    private static bool IsSecret(string optionName) =>
        optionName.Contains("pass", StringComparison.OrdinalIgnoreCase) ||
        optionName.Contains("secret", StringComparison.OrdinalIgnoreCase) ||
        optionName.Contains("key", StringComparison.OrdinalIgnoreCase);

    private static int ExitCodeOf(Exception exception) => exception switch
    {
        AdminException admin => admin.ExitCode,
        DirectoryConflictException => ExitCodes.DataError,
        StorageException => ExitCodes.IoError,
        OperationCanceledException => ExitCodes.Interrupted,
        _ => ExitCodes.Software,
    };

    private static int Fail(TextWriter error, string message, int exitCode)
    {
        error.WriteLine($"mailroom: {message}");
        return exitCode;
    }
}
