using System.CommandLine;
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
        var domain = new Option<string[]>("--domain") { Description = "A local domain; repeatable (default: localhost)" };
        var hostName = new Option<string?>("--hostname") { Description = "The server's name in greetings and Received headers" };
        var config = new Option<string?>("--config") { Description = "A JSON configuration file (default: ./mailroom.json if present)" };
        var command = new Command("serve", "Run the mail server");
        command.Options.Add(data);
        command.Options.Add(smtp);
        command.Options.Add(domain);
        command.Options.Add(hostName);
        command.Options.Add(config);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var flags = new Dictionary<string, string?>();
            AddFlag(flags, "Data", parse.GetValue(data));
            AddFlag(flags, "Smtp:HostName", parse.GetValue(hostName));
            var configuration = new ConfigurationBuilder()
                .SetBasePath(Directory.GetCurrentDirectory())
                .AddJsonFile(parse.GetValue(config) ?? "mailroom.json", optional: parse.GetValue(config) is null)
                .AddEnvironmentVariables("MAILROOM__")
                .AddInMemoryCollection(flags)
                .Build();
            var settings = ServerSettings.From(configuration, parse.GetValue(smtp), parse.GetValue(domain));
            return await ServerHost.RunAsync(configuration, settings, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static void AddFlag(Dictionary<string, string?> flags, string key, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            flags[key] = value;
        }
    }
}
