using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Mailroom.Client;

namespace Mailroom.Bench;

/// <param name="Audit">The started server's audit log: "on" (the default, no cipher), "encrypted" (AES-256-GCM) or "off".</param>
/// <param name="Store">The started server's store: "sqlite" (the default) or "postgres"; null for a server the bench did not start.</param>
/// <param name="Body">"text": lines of one repeated letter (the default; compresses to almost nothing); "base64": seeded random base64 lines, as an attachment is sent (PostgreSQL's TOAST barely compresses it).</param>
/// <param name="Nodes">How many <c>mailroom serve</c> processes the bench starts on the one store; more than one only on PostgreSQL.</param>
public sealed record LoadSettings(int Sessions, int MessagesPerSession, int Size, int Recipients, bool ConnectionPerMessage, string Audit = "on", string? Store = "sqlite", int Nodes = 1, string Body = "text", int WarmupPerSession = 0);

/// <summary>
/// One started <c>mailroom serve</c> node. CPU per message divides the node's CPU time over
/// the load by every message accepted (on any node), so the nodes' figures add up to the server's.
/// </summary>
public sealed record NodeReport(string Node, string Endpoint, int Sessions, int Messages, double CpuSeconds, double CpuMsPerMessage, double PeakRssMb);

/// <summary>What one run measured. Latency is from the end of the data to the server's reply.</summary>
public sealed record LoadReport(
    LoadSettings Settings,
    string Target,
    int Messages,
    double Seconds,
    double MessagesPerSecond,
    double MegabytesPerSecond,
    double LatencyP50Ms,
    double LatencyP99Ms,
    double LatencyMaxMs,
    IReadOnlyDictionary<string, int> Errors,
    double? ServerCpuMsPerMessage,
    double? ServerPeakRssMb,
    IReadOnlyList<NodeReport>? ServerNodes = null,
    double? DatabaseCpuSeconds = null,
    double? DatabaseCpuMsPerMessage = null)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, Indented);

    public string ToTable()
    {
        var sb = new StringBuilder();
        void Row(string name, string value) => sb.Append(CultureInfo.InvariantCulture, $"{name,-32}{value}\n");
        Row("target", Target);
        if (ServerNodes is not null)
        {
            Row("store, nodes", $"{Settings.Store}, {Settings.Nodes}");
        }

        Row("sessions x messages", $"{Settings.Sessions} x {Settings.MessagesPerSession} ({(Settings.ConnectionPerMessage ? "new connection each" : "one connection each")})");
        Row("size, recipients, body", $"{Settings.Size} octets, {Settings.Recipients}, {Settings.Body}");
        Row("audit log (started server)", Settings.Audit);
        Row("messages accepted", Messages.ToString(CultureInfo.InvariantCulture));
        Row("elapsed", $"{Seconds:F2} s");
        Row("messages/s", $"{MessagesPerSecond:F0}");
        Row("MB/s", $"{MegabytesPerSecond:F2}");
        Row("latency p50 / p99 / max", $"{LatencyP50Ms:F2} / {LatencyP99Ms:F2} / {LatencyMaxMs:F2} ms");
        Row("errors", Errors.Count == 0 ? "none" : string.Join(", ", Errors.Select(e => $"{e.Key}: {e.Value}")));
        foreach (var node in ServerNodes ?? [])
        {
            Row($"  {node.Node}", $"{node.Sessions} sessions, {node.Messages} messages, CPU {node.CpuSeconds:F2} s = {node.CpuMsPerMessage:F3} ms/msg, peak RSS {node.PeakRssMb:F1} MB");
        }

        if (ServerCpuMsPerMessage is { } cpu)
        {
            Row(ServerNodes is { Count: > 1 } ? "server CPU per message (sum)" : "server CPU per message", $"{cpu:F3} ms");
        }

        if (ServerPeakRssMb is { } rss)
        {
            Row(ServerNodes is { Count: > 1 } ? "server peak RSS (sum)" : "server peak RSS", $"{rss:F1} MB");
        }

        if (DatabaseCpuMsPerMessage is { } database)
        {
            Row("PostgreSQL CPU", $"{DatabaseCpuSeconds:F2} s = {database:F3} ms/msg (postmaster and backends)");
            Row("server + PostgreSQL CPU/msg", $"{ServerCpuMsPerMessage + database:F3} ms");
        }

        return sb.ToString();
    }
}

/// <summary>Runs the load: every session sends its messages, pipelined, and waits for each durable 250.</summary>
public static class LoadRun
{
    public const string Domain = "bench.test";

    /// <summary>Runs the load on <paramref name="target"/>, or without one on servers the bench starts (<see cref="LoadSettings.Store"/>, <see cref="LoadSettings.Nodes"/>) and stops.</summary>
    public static async Task<LoadReport> RunAsync(LoadSettings settings, string? target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var recipients = Enumerable.Range(0, settings.Recipients).Select(i => $"user{i}@{Domain}").ToArray();
        if (target is not null)
        {
            IPEndPoint[] endpoint = [IPEndPoint.Parse(target)];
            await WarmUpAsync(settings, endpoint, recipients, cancellationToken);
            return await MeasureAsync(settings, endpoint, recipients, null, cancellationToken);
        }

        var own = await ServerUnderTest.StartAsync(settings.Store ?? "sqlite", settings.Nodes, recipients, settings.Audit, cancellationToken);
        try
        {
            var endpoints = own.Nodes.Select(n => n.Endpoint).ToArray();
            await WarmUpAsync(settings, endpoints, recipients, cancellationToken);
            var report = await MeasureAsync(settings, endpoints, recipients, own, cancellationToken);
            if (report.Errors.Count > 0)
            {
                await Console.Error.WriteAsync(own.Diagnostics(linesEach: 20));
            }

            return report;
        }
        finally
        {
            await own.DisposeAsync();
        }
    }

    /// <summary>
    /// The same load, unmeasured, before the measured one (<see cref="LoadSettings.WarmupPerSession"/>
    /// messages per session): a .NET server goes on compiling its hot code again, optimised, for
    /// some seconds of load, and it is the steady state that a server spends its life in.
    /// </summary>
    private static async Task WarmUpAsync(LoadSettings settings, IPEndPoint[] endpoints, string[] recipients, CancellationToken cancellationToken)
    {
        if (settings.WarmupPerSession > 0)
        {
            await MeasureAsync(settings with { MessagesPerSession = settings.WarmupPerSession }, endpoints, recipients, null, cancellationToken);
        }
    }

    /// <summary>Session i goes to endpoint i mod N.</summary>
    private static async Task<LoadReport> MeasureAsync(LoadSettings settings, IPEndPoint[] endpoints, string[] recipients, ServerUnderTest? own, CancellationToken cancellationToken)
    {
        var message = BuildMessage(settings.Size, settings.Body == "base64");
        var latencies = new ConcurrentBag<double>();
        var acceptedBy = new int[endpoints.Length];
        var errors = new ConcurrentDictionary<string, int>();
        var nodeCpuBefore = own?.Nodes.Select(n => n.Process.CpuTime()).ToArray();
        var databaseCpuBefore = own?.Database?.CpuTime();
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, settings.Sessions).Select(i => Task.Run(
            async () =>
            {
                var accepted = await SessionAsync(endpoints[i % endpoints.Length], settings, recipients, message, latencies, errors, cancellationToken);
                Interlocked.Add(ref acceptedBy[i % endpoints.Length], accepted);
            },
            cancellationToken)));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var accepted = latencies.Count;
        var sorted = latencies.Order().ToArray();
        double Percentile(double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        double? PerMessage(TimeSpan? cpu) => cpu is { } c && accepted > 0 ? c.TotalMilliseconds / accepted : null;
        var nodes = own?.Nodes.Select((n, i) =>
        {
            var cpu = n.Process.CpuTime() - nodeCpuBefore![i];
            return new NodeReport(
                n.Name,
                n.Endpoint.ToString(),
                Enumerable.Range(0, settings.Sessions).Count(s => s % endpoints.Length == i),
                acceptedBy[i],
                cpu.TotalSeconds,
                PerMessage(cpu) ?? 0,
                n.Process.PeakResidentBytes() / 1e6);
        }).ToArray();
        var databaseCpu = own?.Database?.CpuTime() - databaseCpuBefore;
        return new LoadReport(
            settings,
            own?.Describe() ?? endpoints[0].ToString(),
            accepted,
            seconds,
            accepted / seconds,
            accepted * (double)message.Length / seconds / 1e6,
            Percentile(0.50),
            Percentile(0.99),
            sorted.LastOrDefault(),
            errors.ToDictionary(),
            nodes is null || accepted == 0 ? null : nodes.Sum(n => n.CpuMsPerMessage),
            nodes?.Sum(n => n.PeakRssMb),
            nodes,
            databaseCpu?.TotalSeconds,
            PerMessage(databaseCpu));
    }

    /// <summary>Sends the session's messages; how many were accepted.</summary>
    private static async Task<int> SessionAsync(IPEndPoint endpoint, LoadSettings settings, string[] recipients, byte[] message, ConcurrentBag<double> latencies, ConcurrentDictionary<string, int> errors, CancellationToken cancellationToken)
    {
        SmtpConnection? connection = null;
        var accepted = 0;
        try
        {
            for (var i = 0; i < settings.MessagesPerSession; i++)
            {
                try
                {
                    connection ??= await SmtpConnection.ConnectAsync(endpoint.Address.ToString(), endpoint.Port, "bench.client", cancellationToken);
                    var result = await connection.SendAsync("load@remote.test", recipients, message, cancellationToken);
                    latencies.Add(result.DataLatency.TotalMilliseconds);
                    accepted++;
                }
                catch (SmtpCommandException ex)
                {
                    errors.AddOrUpdate(ex.Reply?.Code.ToString(CultureInfo.InvariantCulture) ?? "refused", 1, (_, n) => n + 1);
                }
                catch (SmtpProtocolException)
                {
                    errors.AddOrUpdate("connection", 1, (_, n) => n + 1);
                    await DisposeAsync(connection);
                    connection = null;
                }

                if (settings.ConnectionPerMessage && connection is not null)
                {
                    await connection.QuitAsync(cancellationToken);
                    await DisposeAsync(connection);
                    connection = null;
                }
            }

            if (connection is not null)
            {
                await connection.QuitAsync(cancellationToken);
            }

            return accepted;
        }
        finally
        {
            await DisposeAsync(connection);
        }
    }

    private static async Task DisposeAsync(SmtpConnection? connection)
    {
        if (connection is not null)
        {
            await connection.DisposeAsync();
        }
    }

    /// <summary>
    /// A message of exactly <paramref name="size"/> octets (at least its headers), in 78-octet
    /// lines: one repeated letter, or with <paramref name="base64"/> random base64 from a fixed seed
    /// (every run sends the same bytes).
    /// </summary>
    public static byte[] BuildMessage(int size, bool base64 = false)
    {
        var random = new Random(1);
        var raw = new byte[57];
        var sb = new StringBuilder("From: load@remote.test\r\nTo: user0@bench.test\r\nSubject: bench\r\n\r\n");
        while (sb.Length + 80 <= size)
        {
            random.NextBytes(raw);
            sb.Append(base64 ? Convert.ToBase64String(raw) : new string('x', 76)).Append("\r\n");
        }

        var rest = size - sb.Length - 2;
        if (rest > 0)
        {
            sb.Append(new string('y', rest)).Append("\r\n");
        }

        return Encoding.ASCII.GetBytes(sb.ToString());
    }
}
