using Mailroom.Client;
using Microsoft.Extensions.Configuration;

namespace Mailroom.Cli.Send;

/// <summary>
/// The client's own settings, for <c>mailroom sendmail</c> (and defaults for <c>mailroom send</c>):
/// <c>$MAILROOM_CLIENT_CONFIG</c>, else <c>~/.config/mailroom/client.json</c>, then
/// <c>MAILROOM_CLIENT__</c> variables. The password is never in it: it comes from
/// <see cref="PasswordFile"/> or the <c>MAILROOM_PASSWORD</c> variable.
/// </summary>
internal sealed record ClientSettings(string? Server, TlsMode Tls, string? TlsFingerprint, string? User, string? PasswordFile, string? From)
{
    public const string PasswordVariable = "MAILROOM_PASSWORD";

    public static ClientSettings Load()
    {
        var file = Environment.GetEnvironmentVariable("MAILROOM_CLIENT_CONFIG")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "mailroom", "client.json");
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.GetFullPath(file), optional: Environment.GetEnvironmentVariable("MAILROOM_CLIENT_CONFIG") is null)
            .AddEnvironmentVariables("MAILROOM_CLIENT__")
            .Build();
        var tls = configuration["Tls"] is { Length: > 0 } mode
            ? Enum.TryParse<TlsMode>(mode, ignoreCase: true, out var parsed) ? parsed : throw new FormatException($"Tls '{mode}' is not auto, starttls, implicit or none")
            : TlsMode.Auto;
        return new ClientSettings(configuration["Server"], tls, configuration["TlsFingerprint"], configuration["User"], configuration["PasswordFile"], configuration["From"]);
    }

    /// <summary>The password: the first line of <see cref="PasswordFile"/>, else <c>MAILROOM_PASSWORD</c>, else none.</summary>
    public string? Password() =>
        PasswordFile is not null ? File.ReadLines(PasswordFile).FirstOrDefault() ?? string.Empty
        : Environment.GetEnvironmentVariable(PasswordVariable);
}
