using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mailroom.Scaling.Tests;

/// <summary>SMTP by hand, one line at a time, for the exact reply to each command.</summary>
internal sealed class LineClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly StreamReader _reader;
    private readonly Stream _stream;

    private LineClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _reader = new StreamReader(_stream, Encoding.ASCII);
    }

    /// <summary>Connects and reads the greeting, which must be 220.</summary>
    public static async Task<LineClient> ConnectAsync(IPEndPoint endpoint)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(endpoint, TestContext.Current.CancellationToken);
        var client = new LineClient(tcp);
        Assert.StartsWith("220", await client.ReadReplyAsync(), StringComparison.Ordinal);
        return client;
    }

    /// <summary>Sends a line and returns the whole reply (lines joined with \n).</summary>
    public async Task<string> CommandAsync(string line)
    {
        await _stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), TestContext.Current.CancellationToken);
        return await ReadReplyAsync();
    }

    public async Task<string> ReadReplyAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await _reader.ReadLineAsync(TestContext.Current.CancellationToken)
                ?? throw new IOException("the server closed the connection");
            lines.Add(line);
            if (line.Length < 4 || line[3] != '-')
            {
                return string.Join('\n', lines);
            }
        }
    }

    /// <summary>Everything the server sends until it closes the connection (ASCII: one char per octet).</summary>
    public async Task<string> ReadToEndAsync() => await _reader.ReadToEndAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
