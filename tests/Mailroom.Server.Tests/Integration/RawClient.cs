using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Mailroom.Protocol.Replies;

namespace Mailroom.Server.Tests.Integration;

/// <summary>A client that writes exactly the bytes a test gives it, for what no polite client would send.</summary>
public sealed class RawClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private Stream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private ReadOnlySequence<byte> _pending = ReadOnlySequence<byte>.Empty;

    private RawClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>Connects to <paramref name="endpoint"/>, from <paramref name="from"/> (another loopback address) when given.</summary>
    public static async Task<RawClient> ConnectAsync(IPEndPoint endpoint, IPAddress? from = null)
    {
        var tcp = from is null ? new TcpClient() : new TcpClient(new IPEndPoint(from, 0));
        await tcp.ConnectAsync(endpoint);
        return new RawClient(tcp);
    }

    public async Task SendAsync(string text) => await SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(ReadOnlyMemory<byte> bytes) => await _stream.WriteAsync(bytes);

    /// <summary>The next reply, or null when the server closed the connection first.</summary>
    public async Task<SmtpReply?> ReadReplyAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var buffer = _pending;
            if (ReplyParser.TryParse(ref buffer, enhanced: true, out var reply))
            {
                _pending = new ReadOnlySequence<byte>(buffer.ToArray());
                return reply;
            }

            var read = await _stream.ReadAsync(_buffer, cts.Token);
            if (read == 0)
            {
                return null;
            }

            _pending = new ReadOnlySequence<byte>([.. _pending.ToArray(), .. _buffer.AsSpan(0, read)]);
        }
    }

    /// <summary>Exactly <paramref name="count"/> raw octets, as they follow a reply.</summary>
    public async Task<byte[]> ReadBytesAsync(long count)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (_pending.Length < count)
        {
            var read = await _stream.ReadAsync(_buffer, cts.Token);
            if (read == 0)
            {
                throw new EndOfStreamException("The server closed the connection inside a message.");
            }

            _pending = new ReadOnlySequence<byte>([.. _pending.ToArray(), .. _buffer.AsSpan(0, read)]);
        }

        var bytes = _pending.Slice(0, count).ToArray();
        _pending = new ReadOnlySequence<byte>(_pending.Slice(count).ToArray());
        return bytes;
    }

    public async Task<SmtpReply> CommandAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReadReplyAsync() ?? throw new EndOfStreamException($"The server closed the connection after '{line}'.");
    }

    /// <summary>Starts TLS on the connection, trusting only the certificate with this SHA-256 fingerprint.</summary>
    public async Task<SslStream> StartTlsAsync(string fingerprint)
    {
        Assert.Equal(0, _pending.Length);
        var tls = new SslStream(_stream, leaveInnerStreamOpen: false, (_, certificate, _, _) =>
            certificate is not null && Convert.ToHexString(certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256)) == fingerprint);
        await tls.AuthenticateAsClientAsync("mx.example.test");
        _stream = tls;
        return tls;
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
