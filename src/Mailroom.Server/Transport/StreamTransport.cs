using System.IO.Pipelines;
using System.Net.Security;
using Mailroom.Server.Tls;

namespace Mailroom.Server.Transport;

/// <summary>A network stream as pipes, with TLS from the first byte (RFC 8314) or by STARTTLS (RFC 3207).</summary>
public sealed class StreamTransport : ISmtpTransport
{
    private readonly Stream _raw;
    private readonly ServerCertificates? _certificates;
    private SslStream? _tls;

    private StreamTransport(Stream raw, ServerCertificates? certificates)
    {
        _raw = raw;
        _certificates = certificates;
        (Input, Output) = Pipes(raw);
    }

    public PipeReader Input { get; private set; }

    public PipeWriter Output { get; private set; }

    public bool IsTls => _tls is not null;

    public bool CanStartTls => _certificates is not null && _tls is null && !IsCaesar;

    public bool IsCaesar { get; private set; }

    public bool CanStartCaesar => !IsTls && !IsCaesar;

    public string? TlsDescription => _tls is null ? null : $"{_tls.SslProtocol} {_tls.NegotiatedCipherSuite}";

    /// <summary>Wraps <paramref name="raw"/>; with <paramref name="implicitTls"/> the handshake comes first, before any SMTP.</summary>
    public static async Task<StreamTransport> CreateAsync(Stream raw, ServerCertificates? certificates, bool implicitTls, CancellationToken cancellationToken)
    {
        var transport = new StreamTransport(raw, certificates);
        if (implicitTls)
        {
            await transport.StartTlsAsync(cancellationToken).ConfigureAwait(false);
        }

        return transport;
    }

    public async Task StartTlsAsync(CancellationToken cancellationToken)
    {
        if (!CanStartTls)
        {
            throw new InvalidOperationException("TLS is already on, or there is no certificate.");
        }

        // CVE-2011-0411: bytes the client pipelined behind STARTTLS were sent in clear, before
        // the handshake; completing the reader drops them unread.
        await Input.CompleteAsync().ConfigureAwait(false);
        await Output.CompleteAsync().ConfigureAwait(false);
        var tls = new SslStream(_raw, leaveInnerStreamOpen: true);
        try
        {
            await tls.AuthenticateAsServerAsync(_certificates!.ServerOptions(), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _tls = tls;
        (Input, Output) = Pipes(tls);
    }

    public async Task StartCaesarAsync(byte shift)
    {
        if (!CanStartCaesar)
        {
            throw new InvalidOperationException("Caesar obfuscation goes on a plain connection, once.");
        }

        await Input.CompleteAsync().ConfigureAwait(false);
        await Output.CompleteAsync().ConfigureAwait(false);
        IsCaesar = true;
        (Input, Output) = Pipes(new CaesarStream(_raw, shift));
    }

    /// <summary>
    /// The session's pipes over the stream. Zero-byte reads: an idle session waits for data
    /// without a buffer, and rents one only when bytes arrive, so 10,000 idle sessions do not
    /// hold 10,000 read buffers (the bench's --idle 10000 went from 11.7 to 7.5 KiB a session).
    /// </summary>
    private static (PipeReader, PipeWriter) Pipes(Stream stream) => (
        PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true)),
        PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true)));

    public async ValueTask DisposeAsync()
    {
        await Input.CompleteAsync().ConfigureAwait(false);
        await Output.CompleteAsync().ConfigureAwait(false);
        if (_tls is not null)
        {
            await _tls.DisposeAsync().ConfigureAwait(false);
        }
    }
}
