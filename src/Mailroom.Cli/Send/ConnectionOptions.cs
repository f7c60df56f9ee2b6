using System.CommandLine;
using Mailroom.Cli.Admin;
using Mailroom.Client;

namespace Mailroom.Cli.Send;

/// <summary>
/// The options that say where and how to connect, shared by <c>send</c> and <c>shell</c>:
/// --server, --tls, --tls-fingerprint, --user, --password-stdin and --caesar, each falling back
/// to the client configuration.
/// </summary>
internal sealed class ConnectionOptions
{
    private readonly Option<string?> _server = new("--server") { Description = "The server, HOST:PORT (default: Server in the client configuration, else 127.0.0.1:2587)" };
    private readonly Option<TlsMode?> _tls = new("--tls") { Description = "auto (implicit on 465, else STARTTLS when offered; never a password without TLS), starttls, implicit or none" };
    private readonly Option<string?> _fingerprint = new("--tls-fingerprint") { Description = "Trust exactly this certificate (SHA-256, hex), e.g. a self-signed one; `mailroom serve` logs its own" };
    private readonly Option<string?> _user = new("--user") { Description = "Log in as this user (default: User in the client configuration; the password from --password-stdin, PasswordFile, MAILROOM_PASSWORD or a prompt)" };
    private readonly Option<bool> _passwordStdin = new("--password-stdin") { Description = "Read the password from the first line of standard input" };
    private readonly Option<byte?> _caesar = new("--caesar") { Description = "Use the server's XCAESAR obfuscation with this shift (NOT encryption; for the original design's clients only)" };

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var option in new Option[] { _server, _tls, _fingerprint, _user, _passwordStdin, _caesar })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The user to log in as, from the flag or the configuration; null for none.</summary>
    public string? User(ParseResult parse, ClientSettings settings) => parse.GetValue(_user) ?? settings?.User;

    /// <summary>
    /// The password: the first line of standard input with --password-stdin, else the
    /// configuration's PasswordFile or MAILROOM_PASSWORD, else a prompt without echo on a
    /// terminal; null when there is no way to get one.
    /// </summary>
    public async Task<string?> PasswordAsync(ParseResult parse, ClientSettings settings, string login, TextWriter prompt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(settings);
        return parse.GetValue(_passwordStdin) ? await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false)
            : settings.Password() ?? (Console.IsInputRedirected ? null : PasswordReader.ReadHidden(prompt, $"Password for {login}: "));
    }

    public Submission Submission(ParseResult parse, ClientSettings settings, string? login, string? password)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(settings);
        return new Submission(
            parse.GetValue(_server) ?? settings.Server ?? "127.0.0.1:2587",
            parse.GetValue(_tls) ?? settings.Tls,
            parse.GetValue(_fingerprint) ?? settings.TlsFingerprint,
            login,
            password,
            parse.GetValue(_caesar));
    }
}
