using System.IO.Pipelines;
using System.Net.Security;
using Mailroom.Server.Tls;

namespace Mailroom.Server.Transport;

/// <summary>A network stream as pipes, with TLS from the first byte (RFC 8314) or by STARTTLS (RFC 3207).</summary>
public sealed class StreamTransport : ISmtpTransport
{
    /// <summary>
    /// One instance for every session, as the options never change. No zero-byte reads in the
    /// pipe: an idle session waits in <see cref="WaitForInputAsync"/>, with no pipe and no buffer,
    /// and the pipe is only read once data has come, so a zero-byte read there would cost one more
    /// recvfrom per command for nothing (11 per 1 KiB message instead of 8, bench/profile.sh). A
    /// read that waits inside a command (a DATA body arriving slowly) holds a 4 KiB buffer
    /// meanwhile, as any transfer in progress does.
    /// </summary>
    private static readonly StreamPipeReaderOptions ReaderOptions = new(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: false);

    private static readonly StreamPipeWriterOptions WriterOptions = new(leaveOpen: true);

    private readonly Stream _raw;
    private readonly ServerCertificates? _certificates;
    private SslStream? _tls;

    /// <summary>What the pipes read and write: the raw stream, or TLS or Caesar over it.</summary>
    private Stream _stream;
    private PipeReader? _input;
    private PipeWriter? _output;

    private StreamTransport(Stream raw, ServerCertificates? certificates)
    {
        _raw = raw;
        _stream = raw;
        _certificates = certificates;
    }

    /// <summary>The pipe is made when first used, and again after <see cref="WaitForInputAsync"/> let it go.</summary>
    public PipeReader Input => _input ??= PipeReader.Create(Usable(), ReaderOptions);

    public PipeWriter Output => _output ??= PipeWriter.Create(Usable(), WriterOptions);

    /// <summary>
    /// Set when a STARTTLS handshake failed: the raw stream is in the middle of a TLS handshake,
    /// so nothing may be read from or written to it in clear again (not even a 421).
    /// </summary>
    private bool _broken;

    private Stream Usable() => _broken
        ? throw new InvalidOperationException("The TLS handshake failed: the connection has no channel left to use.")
        : _stream;

    /// <summary>True when the reader or writer is held now (tests: an idle session holds neither).</summary>
    internal bool HoldsPipes => _input is not null || _output is not null;

    public bool IsTls => _tls is not null;

    public bool CanStartTls => _certificates is not null && _tls is null && !IsCaesar;

    public bool IsCaesar { get; private set; }

    public bool CanStartCaesar => !IsTls && !IsCaesar;

    public string? TlsDescription => _tls is null ? null : $"{_tls.SslProtocol} {_tls.NegotiatedCipherSuite}";

    /// <summary>Wraps <paramref name="raw"/>, plain until STARTTLS: nothing to wait for, so no task, token source or timer.</summary>
    public static StreamTransport Create(Stream raw, ServerCertificates? certificates) => new(raw, certificates);

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
        await DropPipesAsync().ConfigureAwait(false);
        var tls = new SslStream(_raw, leaveInnerStreamOpen: true);
        try
        {
            await tls.AuthenticateAsServerAsync(_certificates!.ServerOptions(), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _broken = true;
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _tls = tls;
        _stream = tls;
    }

    public async Task StartCaesarAsync(byte shift)
    {
        if (!CanStartCaesar)
        {
            throw new InvalidOperationException("Caesar obfuscation goes on a plain connection, once.");
        }

        await DropPipesAsync().ConfigureAwait(false);
        IsCaesar = true;
        _stream = new CaesarStream(_raw, shift);
    }

    /// <summary>
    /// A zero-byte read on the stream: it holds no buffer, and over a socket not even a task of
    /// its own. When it has to wait, the pipes are let go meanwhile (their segments, token
    /// sources and state), to be made again when data comes: an idle session then holds little
    /// more than its socket. The caller has consumed all input and flushed all output.
    /// </summary>
    public ValueTask<int> WaitForInputAsync(CancellationToken cancellationToken)
    {
        var wait = _stream.ReadAsync(Memory<byte>.Empty, cancellationToken);
        if (!wait.IsCompleted)
        {
            ReleasePipes();
        }

        return wait;
    }

    /// <summary>Completes the pipes (with nothing buffered in either, nothing is lost) so the next use makes new ones.</summary>
    private void ReleasePipes()
    {
        _input?.Complete();
        _output?.Complete();
        _input = null;
        _output = null;
    }

    /// <summary>Completes the pipes, dropping whatever was read and not consumed; new ones are made on next use.</summary>
    private async ValueTask DropPipesAsync()
    {
        if (_input is not null)
        {
            await _input.CompleteAsync().ConfigureAwait(false);
            _input = null;
        }

        if (_output is not null)
        {
            await _output.CompleteAsync().ConfigureAwait(false);
            _output = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DropPipesAsync().ConfigureAwait(false);
        if (_tls is not null)
        {
            await _tls.DisposeAsync().ConfigureAwait(false);
        }
    }
}
