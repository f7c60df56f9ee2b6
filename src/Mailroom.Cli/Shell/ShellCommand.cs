using System.CommandLine;
using Mailroom.Cli.Admin;
using Mailroom.Cli.Send;
using Mailroom.Client;

namespace Mailroom.Cli.Shell;

/// <summary>
/// <c>mailroom shell</c>: connects, secures the connection, logs in once, then reads commands from
/// standard input, a terminal or a pipe. Exit codes follow sysexits as <c>send</c>'s do: 0 done,
/// 75 the server cannot be reached or the connection broke, 77 the log-in or TLS was refused, 64 usage.
/// </summary>
public static class ShellCommand
{
    public static Command Create()
    {
        var raw = new Option<bool>("--raw") { Description = "Show every command and reply on the wire (C: / S:), passwords redacted" };
        var command = new Command("shell", "An interactive session with a Mailroom server: read, flag, delete, save attachments, compose; works from a pipe too");
        var connecting = new ConnectionOptions();
        connecting.AddTo(command);
        command.Options.Add(raw);

        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var settings = ClientSettings.Load();
                var login = connecting.User(parse, settings);
                if (login is null)
                {
                    return Usage(error, "give --user (or User in the client configuration)");
                }

                var password = await connecting.PasswordAsync(parse, settings, login, error, cancellationToken).ConfigureAwait(false);
                if (string.IsNullOrEmpty(password))
                {
                    return Usage(error, "no password: use --password-stdin, MAILROOM_PASSWORD, PasswordFile or a terminal");
                }

                var trace = new ShellTrace(output) { Enabled = parse.GetValue(raw) };
                var connection = await Delivery.ConnectAsync(connecting.Submission(parse, settings, login, password), error, trace.Line, cancellationToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    var session = new ShellSession(connection, login, Console.In, output, error, interactive: !Console.IsInputRedirected, trace)
                    {
                        From = settings.From,
                        ReadKey = Console.IsInputRedirected ? null : () => Console.ReadKey(intercept: true),
                    };
                    return await session.RunAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (SendFailure.ExitCodeOf(ex) is { } code)
            {
                await error.WriteLineAsync($"mailroom shell: {TerminalText.Safe(ex.Message)}").ConfigureAwait(false);
                return code;
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or FileNotFoundException or UnauthorizedAccessException)
            {
                return Usage(error, ex.Message);
            }
        });
        return command;
    }

    private static int Usage(TextWriter error, string message)
    {
        error.WriteLine($"mailroom shell: {message}");
        return ExitCodes.Usage;
    }
}
