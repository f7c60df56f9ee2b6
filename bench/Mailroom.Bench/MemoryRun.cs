using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using Mailroom.Client;

namespace Mailroom.Bench;

/// <summary>
/// What N idle sessions cost the server: its resident memory (VmRSS) with them open, less the
/// memory before, over N. Figures are in MB of 10^6 octets, per-session cost in KiB of 1,024.
/// </summary>
public sealed record IdleReport(
    int Sessions,
    bool Tls,
    int Opened,
    IReadOnlyDictionary<string, int> Failures,
    int ClosedByServer,
    double SecondsToOpen,
    double BaselineRssMb,
    double RssMb,
    double KibPerSession)
{
    public string ToTable()
    {
        var sb = new StringBuilder();
        void Row(string name, string value) => sb.Append(CultureInfo.InvariantCulture, $"{name,-32}{value}\n");
        Row("idle sessions", $"{Sessions} ({(Tls ? "EHLO, STARTTLS, TLS handshake, then idle" : "plaintext: the 220 greeting, then idle")})");
        Row("opened", $"{Opened} in {SecondsToOpen:F1} s");
        Row("failed to open", Failures.Count == 0 ? "none" : string.Join(", ", Failures.Select(f => $"{f.Key}: {f.Value}")));
        Row("closed by the server", ClosedByServer.ToString(CultureInfo.InvariantCulture));
        Row("server RSS before / with them", $"{BaselineRssMb:F1} / {RssMb:F1} MB");
        Row("per idle session", $"{KibPerSession:F2} KiB");
        return sb.ToString();
    }
}

/// <summary>The server's resident memory while it receives and commits one message of <see cref="Size"/> octets.</summary>
public sealed record OneMessageReport(long Size, string Outcome, double Seconds, double BaselineRssMb, double PeakRssMb, double PeakDeltaMb, string PeakSource)
{
    public string ToTable()
    {
        var sb = new StringBuilder();
        void Row(string name, string value) => sb.Append(CultureInfo.InvariantCulture, $"{name,-32}{value}\n");
        Row("one message", $"{Size} octets: {Outcome} in {Seconds:F2} s");
        Row("server RSS before / peak", $"{BaselineRssMb:F1} / {PeakRssMb:F1} MB ({PeakSource})");
        Row("peak RSS increase", $"{PeakDeltaMb:F1} MB");
        return sb.ToString();
    }
}

/// <summary>The memory runs: idle sessions, and one large message. Each starts its own server on SQLite and removes it after.</summary>
public static class MemoryRun
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string ToJson(object report) => JsonSerializer.Serialize(report, report.GetType(), Indented);

    /// <summary>Opens <paramref name="count"/> sessions that read the greeting (and with <paramref name="tls"/> do EHLO and STARTTLS) and then sit idle.</summary>
    public static async Task<IdleReport> IdleAsync(int count, bool tls, CancellationToken cancellationToken)
    {
        var settings = new Dictionary<string, string>
        {
            ["MAILROOM__Smtp__MaxConnections"] = (count + 1000).ToString(CultureInfo.InvariantCulture),
        };
        await using var server = await ServerUnderTest.StartAsync("sqlite", 1, ["user0@" + LoadRun.Domain], "on", cancellationToken, settings);
        var node = server.Nodes[0];
        var pid = node.Process.Id;

        // Warm up first, so the baseline holds the code of a session already loaded and compiled.
        for (var i = 0; i < 20; i++)
        {
            var warm = await OpenIdleAsync(node.Endpoint, tls, cancellationToken);
            warm.Dispose();
        }

        var baseline = await StableRssAsync(pid, cancellationToken);
        var open = new List<IdleConnection>(count);
        var failures = new Dictionary<string, int>();
        var started = Stopwatch.GetTimestamp();
        using var gate = new SemaphoreSlim(64);
        var tasks = Enumerable.Range(0, count).Select(async _ =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                return await OpenIdleAsync(node.Endpoint, tls, cancellationToken);
            }
            finally
            {
                gate.Release();
            }
        }).ToArray();
        foreach (var task in tasks)
        {
            try
            {
                open.Add(await task);
            }
            catch (Exception e) when (e is IOException or SocketException or AuthenticationException or InvalidDataException)
            {
                var key = e is InvalidDataException ? e.Message : e.GetType().Name;
                failures[key] = failures.GetValueOrDefault(key) + 1;
            }
        }

        var secondsToOpen = Stopwatch.GetElapsedTime(started).TotalSeconds;
        try
        {
            var withThem = await StableRssAsync(pid, cancellationToken);
            var closed = open.Count(c => c.ClosedByPeer());
            return new IdleReport(
                count,
                tls,
                open.Count,
                failures,
                closed,
                secondsToOpen,
                baseline / 1e6,
                withThem / 1e6,
                open.Count == 0 ? 0 : (withThem - baseline) / 1024.0 / open.Count);
        }
        finally
        {
            foreach (var connection in open)
            {
                connection.Dispose();
            }
        }
    }

    /// <summary>Sends one message of <paramref name="size"/> octets and watches the server's resident memory meanwhile.</summary>
    public static async Task<OneMessageReport> OneMessageAsync(long size, CancellationToken cancellationToken)
    {
        if (size > Array.MaxLength - 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(size), "The bench builds the message in one array: at most about 2 GB.");
        }

        var settings = new Dictionary<string, string>
        {
            ["MAILROOM__Smtp__MaxMessageSize"] = Math.Max(size * 2, 50L * 1024 * 1024).ToString(CultureInfo.InvariantCulture),
        };
        var recipients = new[] { "user0@" + LoadRun.Domain };
        await using var server = await ServerUnderTest.StartAsync("sqlite", 1, recipients, "on", cancellationToken, settings);
        var node = server.Nodes[0];
        var pid = node.Process.Id;
        var message = LoadRun.BuildMessage((int)size);
        await using var connection = await SmtpConnection.ConnectAsync(node.Endpoint.Address.ToString(), node.Endpoint.Port, "bench.client", cancellationToken);
        await connection.SendAsync("load@remote.test", recipients, LoadRun.BuildMessage(1024), cancellationToken); // warm-up

        var baseline = await StableRssAsync(pid, cancellationToken);
        var reset = ProcStat.ResetPeak(pid);
        long sampled = 0;
        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampler = Task.Run(
            async () =>
            {
                while (!stopSampling.IsCancellationRequested)
                {
                    sampled = Math.Max(sampled, ProcStat.Memory(pid, "VmRSS"));
                    await Task.Delay(5, CancellationToken.None);
                }
            },
            CancellationToken.None);
        var started = Stopwatch.GetTimestamp();
        string outcome;
        try
        {
            var result = await connection.SendAsync("load@remote.test", recipients, message, cancellationToken);
            outcome = $"accepted, {result.DataLatency.TotalMilliseconds:F0} ms from the end of the data to the 250";
        }
        catch (SmtpCommandException e)
        {
            outcome = $"refused: {e.Message}";
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await stopSampling.CancelAsync();
        await sampler;
        var peak = reset ? Math.Max(sampled, ProcStat.Memory(pid, "VmHWM")) : sampled;
        return new OneMessageReport(size, outcome, seconds, baseline / 1e6, peak / 1e6, (peak - baseline) / 1e6, reset ? "VmHWM reset before the message" : "VmRSS sampled every 5 ms");
    }

    /// <summary>
    /// Samples VmRSS every half second until six samples in a row (three seconds) lie within
    /// 256 KiB of each other, or a minute has passed; their mean.
    /// </summary>
    private static async Task<long> StableRssAsync(int pid, CancellationToken cancellationToken)
    {
        var samples = new List<long>();
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 60;
        while (true)
        {
            samples.Add(ProcStat.Memory(pid, "VmRSS"));
            var last = samples.TakeLast(6).ToArray();
            if ((last.Length == 6 && last.Max() - last.Min() <= 256 * 1024) || Stopwatch.GetTimestamp() > deadline)
            {
                return (long)last.Average();
            }

            await Task.Delay(500, cancellationToken);
        }
    }

    private static async Task<IdleConnection> OpenIdleAsync(IPEndPoint endpoint, bool tls, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        Stream stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            await ExpectAsync(stream, "220", "greeting", cancellationToken);
            if (tls)
            {
                await stream.WriteAsync("EHLO idle.client\r\n"u8.ToArray(), cancellationToken);
                await ExpectAsync(stream, "250", "EHLO", cancellationToken);
                await stream.WriteAsync("STARTTLS\r\n"u8.ToArray(), cancellationToken);
                await ExpectAsync(stream, "220", "STARTTLS", cancellationToken);
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;

                await ssl.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions { TargetHost = "localhost", RemoteCertificateValidationCallback = SameCertificate },
                    cancellationToken);
            }

            return new IdleConnection(stream);
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The server the bench started signs itself, so no authority vouches for it: the first
    /// certificate seen in the run is pinned, and every later session must be shown the same one.
    /// </summary>
    private static bool SameCertificate(object sender, System.Security.Cryptography.X509Certificates.X509Certificate? certificate, System.Security.Cryptography.X509Certificates.X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return false;
        }

        var hash = certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256);
        return Interlocked.CompareExchange(ref _pinnedCertificate, hash, null) is not { } pinned || pinned == hash;
    }

    private static string? _pinnedCertificate;

    /// <summary>Reads one reply, single or multi-line (no command is pipelined, so nothing follows it); throws unless its code is <paramref name="code"/>.</summary>
    private static async Task ExpectAsync(Stream stream, string code, string what, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var length = 0;
        while (true)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                throw new InvalidDataException($"{what}: connection closed");
            }

            length += read;
            var text = Encoding.ASCII.GetString(buffer, 0, length);
            if (!text.EndsWith("\r\n", StringComparison.Ordinal))
            {
                if (length == buffer.Length)
                {
                    throw new InvalidDataException($"{what}: reply too long");
                }

                continue;
            }

            var lines = text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            var last = lines[^1];
            if (last.Length >= 4 && last[3] == '-')
            {
                continue; // more lines of a multi-line reply to come
            }

            if (!last.StartsWith(code, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{what}: {last[..Math.Min(3, last.Length)]}");
            }

            return;
        }
    }

    /// <summary>
    /// An open idle session. A read is kept pending on it from the start (so TLS 1.3's session
    /// tickets, sent after the handshake, are consumed and not taken for a reply); it completes
    /// only when the server closes the connection or sends something unasked (a 421 on a timeout).
    /// </summary>
    private sealed class IdleConnection : IDisposable
    {
        private readonly Stream _stream;
        private readonly Task<int> _read;

        public IdleConnection(Stream stream)
        {
            _stream = stream;
            _read = stream.ReadAsync(new byte[1]).AsTask();
            _ = _read.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }

        public bool ClosedByPeer() => _read.IsCompleted;

        public void Dispose() => _stream.Dispose();
    }
}
