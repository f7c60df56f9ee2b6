using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mailroom.Client.Tests;

/// <summary>
/// A scripted server on 127.0.0.1 port 0 for what our own server will not do (offer only PLAIN,
/// never answer): one connection, the script writes replies and reads lines. Every line the client
/// sent is kept in <see cref="Received"/>.
/// </summary>
public sealed class FakeServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Task _session;
    private readonly CancellationTokenSource _stop = new();

    public FakeServer(Func<FakeServer, Task> script)
    {
        _listener.Start();
        _session = RunAsync(script);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public List<string> Received { get; } = [];

    private StreamReader? Reader { get; set; }

    private Stream? Stream { get; set; }

    /// <summary>Completes when the script has run (or failed).</summary>
    public Task Session => _session;

    private async Task RunAsync(Func<FakeServer, Task> script)
    {
        using var tcp = await _listener.AcceptTcpClientAsync(_stop.Token);
        Stream = tcp.GetStream();
        Reader = new StreamReader(Stream, Encoding.UTF8);
        await script(this);
    }

    public async Task SendAsync(string lines) =>
        await Stream!.WriteAsync(Encoding.UTF8.GetBytes(lines.Replace("\n", "\r\n", StringComparison.Ordinal)), _stop.Token);

    public async Task<string?> ReadLineAsync()
    {
        var line = await Reader!.ReadLineAsync(_stop.Token);
        if (line is not null)
        {
            Received.Add(line);
        }

        return line;
    }

    /// <summary>Waits until the client closes the connection.</summary>
    public async Task DrainAsync()
    {
        while (await ReadLineAsync() is not null)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _session;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException)
        {
        }

        _stop.Dispose();
    }
}
