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
var store = new Option<string>("--store") { Description = "The started server's store: sqlite (default) or postgres (a throwaway PostgreSQL cluster the bench starts and removes)", DefaultValueFactory = _ => "sqlite" };
store.AcceptOnlyFromAmong("sqlite", "postgres");
var nodes = new Option<int>("--nodes") { Description = "How many `mailroom serve` processes to start on the one store (default 1; more only with --store postgres); session i goes to node i mod N", DefaultValueFactory = _ => 1 };
var body = new Option<string>("--body") { Description = "text (default: one repeated letter, compresses to nothing) or base64 (random, as an attachment; PostgreSQL cannot compress it)", DefaultValueFactory = _ => "text" };
body.AcceptOnlyFromAmong("text", "base64");
var idle = new Option<int?>("--idle") { Description = "Instead of the load: open this many sessions to a server the bench starts, leave them idle, and report the server's memory per session" };
var idleTls = new Option<bool>("--idle-tls") { Description = "With --idle: each session does EHLO and STARTTLS before it goes idle" };
var oneMessage = new Option<long?>("--one-message-size") { Description = "Instead of the load: send one message of this many octets to a server the bench starts, and report the rise of its resident memory" };
var warmup = new Option<int?>("--warmup") { Description = "Messages per session sent unmeasured before the measured run (default: as many as --messages when the bench starts the server, none with --server)" };
var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file" };
var root = new RootCommand("Mailroom's load benchmark: SMTP sessions sending messages, with durable 250s.");
foreach (var option in new Option[] { sessions, messages, size, recipients, newConnection, server, audit, store, nodes, body, warmup, idle, idleTls, oneMessage, json })
{
    root.Options.Add(option);
}

root.Validators.Add(result =>
{
    // Defaults are not applied yet while validators run: an option not given has no result here.
    var nodeCount = result.GetResult(nodes)?.GetValueOrDefault<int>() ?? 1;
    var storeName = result.GetResult(store)?.GetValueOrDefault<string>() ?? "sqlite";
    if (nodeCount < 1)
    {
        result.AddError("--nodes must be at least 1.");
    }
    else if (nodeCount > 1 && storeName != "postgres")
    {
        result.AddError($"--nodes {nodeCount} needs --store postgres: several nodes share one store only on PostgreSQL; SQLite is one node's own file.");
    }

    var memoryRuns = (result.GetResult(idle) is null ? 0 : 1) + (result.GetResult(oneMessage) is null ? 0 : 1);
    if (memoryRuns > 1 || (memoryRuns == 1 && (result.GetResult(server) is not null || result.GetResult(store) is { Implicit: false } || result.GetResult(nodes) is { Implicit: false })))
    {
        result.AddError("--idle and --one-message-size are runs of their own, each on a SQLite server the bench starts: give one of them, without --server, --store or --nodes.");
    }

    if (result.GetResult(idleTls) is not null && result.GetResult(idle) is null)
    {
        result.AddError("--idle-tls goes with --idle N.");
    }

    if (result.GetResult(server) is not null && (result.GetResult(store) is { Implicit: false } || result.GetResult(nodes) is { Implicit: false }))
    {
        result.AddError("--store and --nodes choose the server the bench starts; with --server HOST:PORT the bench starts none.");
    }
});

root.SetAction(async (parse, cancellationToken) =>
{
    if (parse.GetValue(idle) is not null || parse.GetValue(oneMessage) is not null)
    {
        return await MemoryAsync(parse.GetValue(idle), parse.GetValue(idleTls), parse.GetValue(oneMessage), parse.GetValue(json), cancellationToken);
    }

    var settings = new LoadSettings(
        parse.GetValue(sessions),
        parse.GetValue(messages),
        parse.GetValue(size),
        parse.GetValue(recipients),
        parse.GetValue(newConnection),
        parse.GetValue(audit)!,
        parse.GetValue(server) is null ? parse.GetValue(store) : null,
        parse.GetValue(nodes),
        parse.GetValue(body)!,
        parse.GetValue(warmup) ?? (parse.GetValue(server) is null ? parse.GetValue(messages) : 0));
    LoadReport report;
    try
    {
        report = await LoadRun.RunAsync(settings, parse.GetValue(server), cancellationToken);
    }
    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
    {
        await Console.Error.WriteLineAsync("Cancelled: every server, cluster and folder the bench started is gone.");
        return 130;
    }

    Console.Out.Write(report.ToTable());
    if (parse.GetValue(json) is { } path)
    {
        await File.WriteAllTextAsync(path, report.ToJson(), cancellationToken);
    }

    return report.Errors.Count == 0 ? 0 : 1;
});
// Ctrl-C cancels the run; the bench then stops its nodes and cluster and removes their folders,
// which takes longer than System.CommandLine's default two seconds before it gives up waiting.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(60) });

static async Task<int> MemoryAsync(int? idleSessions, bool tls, long? size, string? json, CancellationToken cancellationToken)
{
    try
    {
        if (idleSessions is { } count)
        {
            var report = await MemoryRun.IdleAsync(count, tls, cancellationToken);
            Console.Out.Write(report.ToTable());
            await WriteJsonAsync(report);
            return report.Opened == count && report.ClosedByServer == 0 ? 0 : 1;
        }
        else
        {
            var report = await MemoryRun.OneMessageAsync(size!.Value, cancellationToken);
            Console.Out.Write(report.ToTable());
            await WriteJsonAsync(report);
            return report.Outcome.StartsWith("accepted", StringComparison.Ordinal) ? 0 : 1;
        }
    }
    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
    {
        await Console.Error.WriteLineAsync("Cancelled: the server the bench started and its folder are gone.");
        return 130;
    }

    async Task WriteJsonAsync(object report)
    {
        if (json is not null)
        {
            await File.WriteAllTextAsync(json, MemoryRun.ToJson(report), cancellationToken);
        }
    }
}
