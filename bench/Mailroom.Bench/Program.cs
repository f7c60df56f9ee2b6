using System.CommandLine;
using Mailroom.Bench;

var sessions = new Option<int>("--sessions") { Description = "Concurrent SMTP sessions", DefaultValueFactory = _ => 20 };
var messages = new Option<int>("--messages") { Description = "Messages per session", DefaultValueFactory = _ => 100 };
var size = new Option<int>("--size") { Description = "Message size in octets", DefaultValueFactory = _ => 1024 };
var recipients = new Option<int>("--recipients") { Description = "Recipients per message", DefaultValueFactory = _ => 1 };
var newConnection = new Option<bool>("--connection-per-message") { Description = "Open a new connection for every message" };
var server = new Option<string?>("--server") { Description = "Target HOST:PORT; without it the bench starts `mailroom serve` on a fresh data folder" };
var audit = new Option<string>("--audit") { Description = "The started server's audit log: on (default), encrypted (AES-256-GCM) or off", DefaultValueFactory = _ => "on" };
audit.AcceptOnlyFromAmong("on", "encrypted", "off");
var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file" };
var root = new RootCommand("Mailroom's load benchmark: SMTP sessions sending messages, with durable 250s.");
foreach (var option in new Option[] { sessions, messages, size, recipients, newConnection, server, audit, json })
{
    root.Options.Add(option);
}

root.SetAction(async (parse, cancellationToken) =>
{
    var settings = new LoadSettings(
        parse.GetValue(sessions),
        parse.GetValue(messages),
        parse.GetValue(size),
        parse.GetValue(recipients),
        parse.GetValue(newConnection),
        parse.GetValue(audit)!);
    var report = await LoadRun.RunAsync(settings, parse.GetValue(server), cancellationToken);
    Console.Out.Write(report.ToTable());
    if (parse.GetValue(json) is { } path)
    {
        await File.WriteAllTextAsync(path, report.ToJson(), cancellationToken);
    }

    return report.Errors.Count == 0 ? 0 : 1;
});
return await root.Parse(args).InvokeAsync();
