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
        var server = new Option<string?>("--server") { Description = "The server, HOST:PORT (default: Server in the client configuration, else 127.0.0.1:2587)" };
        var tls = new Option<TlsMode?>("--tls") { Description = "auto (implicit on 465, else STARTTLS when offered), starttls, implicit or none; asked-for TLS is never dropped" };
        var fingerprint = new Option<string?>("--tls-fingerprint") { Description = "Trust exactly this certificate (SHA-256, hex), e.g. a self-signed one" };
        var user = new Option<string?>("--user") { Description = "Log in as this user (default: User in the client configuration)" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from the first line of standard input; the commands follow" };
        var raw = new Option<bool>("--raw") { Description = "Show every command and reply on the wire (C: / S:), passwords redacted" };
        var caesar = new Option<byte?>("--caesar") { Description = "Use the server's XCAESAR obfuscation with this shift (NOT encryption)" };
        var command = new Command("shell", "An interactive session with a Mailroom server: read, flag, delete, save attachments, compose; works from a pipe too");
        foreach (var option in new Option[] { server, tls, fingerprint, user, passwordStdin, raw, caesar })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var settings = ClientSettings.Load();
                var login = parse.GetValue(user) ?? settings.User;
                if (login is null)
                {
                    return Usage(error, "give --user (or User in the client configuration)");
                }

                var password = parse.GetValue(passwordStdin) ? await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false)
                    : settings.Password() ?? (Console.IsInputRedirected ? null : PasswordReader.ReadHidden(error, $"Password for {login}: "));
                if (string.IsNullOrEmpty(password))
                {
                    return Usage(error, "no password: use --password-stdin, MAILROOM_PASSWORD, PasswordFile or a terminal");
                }

                var (host, port) = Delivery.ParseServer(parse.GetValue(server) ?? settings.Server ?? "127.0.0.1:2587");
                var shift = parse.GetValue(caesar);
                if (shift is not null)
                {
                    await error.WriteLineAsync("mailroom shell: warning: --caesar is the original design's obfuscation, not encryption: anyone on the path can read this session, password included").ConfigureAwait(false);
                }

                var trace = new ShellTrace(output) { Enabled = parse.GetValue(raw) };
                var options = new SmtpClientOptions
                {
                    ClientName = System.Net.Dns.GetHostName() is { Length: > 0 } name && !name.Contains(' ', StringComparison.Ordinal) ? name : "localhost",
                    Tls = parse.GetValue(tls) ?? settings.Tls,
                    PinnedCertificateSha256 = parse.GetValue(fingerprint) ?? settings.TlsFingerprint,
                    CaesarShift = shift,
                    Trace = trace.Line,
                };
                var connection = await SmtpConnection.ConnectAsync(host, port, options, cancellationToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    await connection.AuthenticateAsync(login, password, cancellationToken).ConfigureAwait(false);
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
