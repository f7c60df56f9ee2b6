using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Mailroom.Core.Accounts;
using Mailroom.Storage.Sqlite;

namespace Mailroom.Bench;

/// <summary>
/// <c>mailroom serve</c> started by the bench as its own process on 127.0.0.1 port 0 and a fresh
/// data folder, so its CPU time and memory can be read apart from the load generator's.
/// </summary>
public sealed partial class ServerUnderTest : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;

    private ServerUnderTest(Process process, string folder, IPEndPoint endpoint)
    {
        _process = process;
        _folder = folder;
        Endpoint = endpoint;
    }

    public IPEndPoint Endpoint { get; }

    public static async Task<ServerUnderTest> StartAsync(IEnumerable<string> recipients, CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("mailroom-bench-").FullName;
        await using (var store = await SqliteMailStore.OpenAsync(folder, cancellationToken))
        {
            await store.AddDomainAsync(LoadRun.Domain, cancellationToken);
            var hasher = new PasswordHasher(iterations: 1000);
            foreach (var address in recipients)
            {
                await store.AddAccountAsync(address, hasher.Hash("bench"), cancellationToken);
            }
        }

        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "mailroom.dll"), "serve", "--data", folder, "--smtp", "127.0.0.1:0", "--domain", LoadRun.Domain })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["MAILROOM__Smtp__ReverseDnsLookup"] = "false";
        start.Environment["MAILROOM__Smtp__MaxConnectionsPerAddress"] = "100000";
        start.Environment["MAILROOM__Logging__LogLevel__Default"] = "Warning";
        start.Environment["MAILROOM__Logging__LogLevel__Mailroom.Server"] = "Warning";
        var process = Process.Start(start)!;
        var listening = new TaskCompletionSource<IPEndPoint>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                listening.TrySetException(new InvalidOperationException("mailroom serve exited before it listened."));
            }
            else if (ListeningLine().Match(e.Data) is { Success: true } match)
            {
                listening.TrySetResult(IPEndPoint.Parse(match.Groups[1].Value));
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            return new ServerUnderTest(process, folder, await listening.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken));
        }
        catch
        {
            // A server that never said where it listens is still a process, and the folder is still ours.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            process.Dispose();
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    /// <summary>User plus system CPU time of the server process so far (/proc/PID/stat, fields 14 and 15).</summary>
    public TimeSpan CpuTime()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    /// <summary>Peak resident set size (VmHWM), in bytes.</summary>
    public long PeakResidentBytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [GeneratedRegex(@"Listening for SMTP on (\S+)")]
    private static partial Regex ListeningLine();
}
