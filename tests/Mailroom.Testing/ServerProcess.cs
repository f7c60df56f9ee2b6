using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace Mailroom.Testing;

/// <summary>
/// <c>mailroom serve</c> as a real process on 127.0.0.1 port 0, for what only a process can show:
/// a SIGKILL, and the CPU time and memory of the whole server. Reverse DNS is off: nothing it does
/// leaves this machine.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output;

    private ServerProcess(Process process, IPEndPoint endpoint, System.Collections.Concurrent.ConcurrentQueue<string> output)
    {
        _process = process;
        _output = output;
        Endpoint = endpoint;
    }

    /// <summary>What the server has written to stdout and stderr so far, line by line: its log.</summary>
    public IReadOnlyCollection<string> Output => _output;

    public IPEndPoint Endpoint { get; }

    public int Id => _process.Id;

    /// <summary>Whether the process has ended (by itself, or killed).</summary>
    public bool HasExited => _process.HasExited;

    public static async Task<ServerProcess> StartAsync(string dataFolder, string domain = "example.test", IDictionary<string, string>? environment = null)
    {
        var start = MailroomProgram.StartInfo(["serve", "--data", dataFolder, "--smtp", "127.0.0.1:0", "--submission", "127.0.0.1:0", "--submissions", "127.0.0.1:0", "--domain", domain]);
        start.RedirectStandardInput = false;

        start.Environment["MAILROOM__Smtp__ReverseDnsLookup"] = "false";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        var listening = new TaskCompletionSource<IPEndPoint>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                listening.TrySetException(new InvalidOperationException("mailroom serve exited:\n" + string.Join('\n', output)));
                return;
            }

            output.Enqueue(e.Data);
            var match = ListeningLine().Match(e.Data);
            if (match.Success)
            {
                listening.TrySetResult(IPEndPoint.Parse(match.Groups[1].Value));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Enqueue(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var endpoint = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
            return new ServerProcess(process, endpoint, output);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>SIGTERM, as a service manager stops a server: the graceful shutdown.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    /// <summary>Waits for the process to end by itself; its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown code runs, no buffer is flushed.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>User plus system CPU time of the process so far (/proc/PID/stat, fields 14 and 15, in clock ticks of 1/100 s).</summary>
    public TimeSpan CpuTime()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    /// <summary>The peak resident set size (VmHWM) of the process, in bytes.</summary>
    public long PeakResidentBytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"Listening for SMTP on (\S+)")]
    private static partial Regex ListeningLine();
}
