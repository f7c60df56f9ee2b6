using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Mailroom.Client;

namespace Mailroom.Bench;

/// <param name="Audit">The started server's audit log: "on" (the default, no cipher), "encrypted" (AES-256-GCM) or "off".</param>
public sealed record LoadSettings(int Sessions, int MessagesPerSession, int Size, int Recipients, bool ConnectionPerMessage, string Audit = "on");

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
    double? ServerPeakRssMb)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, Indented);

    public string ToTable()
    {
        var sb = new StringBuilder();
        void Row(string name, string value) => sb.Append(CultureInfo.InvariantCulture, $"{name,-28}{value}\n");
        Row("target", Target);
        Row("sessions x messages", $"{Settings.Sessions} x {Settings.MessagesPerSession} ({(Settings.ConnectionPerMessage ? "new connection each" : "one connection each")})");
        Row("size, recipients", $"{Settings.Size} octets, {Settings.Recipients}");
        Row("audit log (started server)", Settings.Audit);
        Row("messages accepted", Messages.ToString(CultureInfo.InvariantCulture));
        Row("elapsed", $"{Seconds:F2} s");
        Row("messages/s", $"{MessagesPerSecond:F0}");
        Row("MB/s", $"{MegabytesPerSecond:F2}");
        Row("latency p50 / p99 / max", $"{LatencyP50Ms:F2} / {LatencyP99Ms:F2} / {LatencyMaxMs:F2} ms");
        Row("errors", Errors.Count == 0 ? "none" : string.Join(", ", Errors.Select(e => $"{e.Key}: {e.Value}")));
        if (ServerCpuMsPerMessage is { } cpu)
        {
            Row("server CPU per message", $"{cpu:F3} ms");
        }

        if (ServerPeakRssMb is { } rss)
        {
            Row("server peak RSS", $"{rss:F1} MB");
        }

        return sb.ToString();
    }
}

/// <summary>Runs the load: every session sends its messages, pipelined, and waits for each durable 250.</summary>
public static class LoadRun
{
    public const string Domain = "bench.test";

    public static async Task<LoadReport> RunAsync(LoadSettings settings, string? target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var recipients = Enumerable.Range(0, settings.Recipients).Select(i => $"user{i}@{Domain}").ToArray();
        ServerUnderTest? own = null;
        IPEndPoint endpoint;
        if (target is null)
        {
            own = await ServerUnderTest.StartAsync(recipients, settings.Audit, cancellationToken);
            endpoint = own.Endpoint;
        }
        else
        {
            endpoint = IPEndPoint.Parse(target);
        }

        try
        {
            var message = BuildMessage(settings.Size);
            var latencies = new ConcurrentBag<double>();
            var errors = new ConcurrentDictionary<string, int>();
            var cpuBefore = own?.CpuTime() ?? TimeSpan.Zero;
            var started = Stopwatch.GetTimestamp();
            await Task.WhenAll(Enumerable.Range(0, settings.Sessions).Select(_ => Task.Run(
                () => SessionAsync(endpoint, settings, recipients, message, latencies, errors, cancellationToken), cancellationToken)));
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var accepted = latencies.Count;
            var sorted = latencies.Order().ToArray();
            double Percentile(double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
            return new LoadReport(
                settings,
                own is null ? endpoint.ToString() : $"mailroom serve (SQLite) on {endpoint}",
                accepted,
                seconds,
                accepted / seconds,
                accepted * (double)message.Length / seconds / 1e6,
                Percentile(0.50),
                Percentile(0.99),
                sorted.LastOrDefault(),
                errors.ToDictionary(),
                own is null || accepted == 0 ? null : (own.CpuTime() - cpuBefore).TotalMilliseconds / accepted,
                own?.PeakResidentBytes() / 1e6);
        }
        finally
        {
            if (own is not null)
            {
                await own.DisposeAsync();
            }
        }
    }

    private static async Task SessionAsync(IPEndPoint endpoint, LoadSettings settings, string[] recipients, byte[] message, ConcurrentBag<double> latencies, ConcurrentDictionary<string, int> errors, CancellationToken cancellationToken)
    {
        SmtpConnection? connection = null;
        try
        {
            for (var i = 0; i < settings.MessagesPerSession; i++)
            {
                try
                {
                    connection ??= await SmtpConnection.ConnectAsync(endpoint.Address.ToString(), endpoint.Port, "bench.client", cancellationToken);
                    var result = await connection.SendAsync("load@remote.test", recipients, message, cancellationToken);
                    latencies.Add(result.DataLatency.TotalMilliseconds);
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

    /// <summary>A plain text message of exactly <paramref name="size"/> octets (at least its headers), in 78-octet lines.</summary>
    public static byte[] BuildMessage(int size)
    {
        var sb = new StringBuilder("From: load@remote.test\r\nTo: user0@bench.test\r\nSubject: bench\r\n\r\n");
        while (sb.Length + 80 <= size)
        {
            sb.Append(new string('x', 76)).Append("\r\n");
        }

        var rest = size - sb.Length - 2;
        if (rest > 0)
        {
            sb.Append(new string('y', rest)).Append("\r\n");
        }

        return Encoding.ASCII.GetBytes(sb.ToString());
    }
}
