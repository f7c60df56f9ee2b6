using System.CommandLine;
using Mailroom.Core.Storage;
using Microsoft.Extensions.Configuration;

namespace Mailroom.Cli.Serve;

/// <summary>
/// <c>mailroom serve</c>: the server on the embedded store. Settings come, later ones winning, from
/// mailroom.json (in the working folder, or <c>--config FILE</c>), environment variables
/// prefixed <c>MAILROOM__</c> (<c>MAILROOM__Smtp__MaxMessageSize</c> sets <c>Smtp:MaxMessageSize</c>),
/// and the flags.
/// </summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "The data folder (default: ./data)" };
        var smtp = new Option<string[]>("--smtp")
        {
            Description = "An SMTP listener, IP:PORT; repeatable (default: 127.0.0.1:2525)",
            AllowMultipleArgumentsPerToken = false,
        };
        var submission = new Option<string[]>("--submission") { Description = "A submission listener (STARTTLS, then AUTH), IP:PORT; repeatable (default: 127.0.0.1:2587)" };
        var submissions = new Option<string[]>("--submissions") { Description = "An implicit-TLS submission listener, IP:PORT; repeatable (default: 127.0.0.1:2465)" };
        var domain = new Option<string[]>("--domain") { Description = "A local domain; repeatable (default: localhost)" };
        var hostName = new Option<string?>("--hostname") { Description = "The server's name in greetings and Received headers" };
        var config = new Option<string?>("--config") { Description = "A JSON configuration file (default: ./mailroom.json if present)" };
        var command = new Command("serve", "Run the mail server");
        command.Options.Add(data);
        command.Options.Add(smtp);
        command.Options.Add(domain);
        command.Options.Add(submission);
        command.Options.Add(submissions);
        command.Options.Add(hostName);
        command.Options.Add(config);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var flags = new Dictionary<string, string?>();
            AddFlag(flags, "Data", parse.GetValue(data));
            AddFlag(flags, "Smtp:HostName", parse.GetValue(hostName));
            IConfiguration configuration;
            ServerSettings settings;
            try
            {
                configuration = BuildConfiguration(Directory.GetCurrentDirectory(), parse.GetValue(config), flags);
                settings = ServerSettings.From(configuration, parse.GetValue(smtp), parse.GetValue(domain), parse.GetValue(submission), parse.GetValue(submissions));
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException or FileNotFoundException or InvalidDataException)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"mailroom serve: configuration error: {ex.Message}").ConfigureAwait(false);
                return ExitConfig;
            }

            try
            {
                return await ServerHost.RunAsync(configuration, settings, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is StorageException or System.Net.Sockets.SocketException or IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                // A port already in use, a data folder that cannot be written: one clear line, not a stack trace.
                await parse.InvocationConfiguration.Error.WriteLineAsync($"mailroom serve: cannot start: {ex.Message}").ConfigureAwait(false);
                return ExitUnavailable;
            }
        });
        return command;
    }

    /// <summary>sysexits EX_CONFIG: the configuration is wrong.</summary>
    public const int ExitConfig = 78;

    /// <summary>sysexits EX_UNAVAILABLE: a listener or the store could not be opened.</summary>
    public const int ExitUnavailable = 69;

    /// <summary>The configuration sources in their order: the JSON file, MAILROOM__ environment variables, the flags.</summary>
    public static IConfiguration BuildConfiguration(string baseDirectory, string? configFile, IReadOnlyDictionary<string, string?> flags)
    {
        return new ConfigurationBuilder()
            .SetBasePath(baseDirectory)
            .AddJsonFile(configFile ?? "mailroom.json", optional: configFile is null)
            .AddEnvironmentVariables("MAILROOM__")
            .AddInMemoryCollection(flags)
            .Build();
    }

    private static void AddFlag(Dictionary<string, string?> flags, string key, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            flags[key] = value;
        }
    }
}
