using System.IO.Pipelines;

namespace Mailroom.Server.Transport;

/// <summary>
/// The connection under a session: pipes that STARTTLS can replace. After
/// <see cref="StartTlsAsync"/> the session must read and write through the new pipes only.
/// </summary>
public interface ISmtpTransport : IDuplexPipe, IAsyncDisposable
{
    bool IsTls { get; }

    /// <summary>TLS can be started on this connection now (a certificate exists and TLS is not on yet).</summary>
    bool CanStartTls { get; }

    /// <summary>The protocol and cipher suite in use, for the Received header and the log; null without TLS.</summary>
    string? TlsDescription { get; }

    /// <summary>
    /// Throws away everything read but not yet consumed (RFC 3207 4.2: the client must not
    /// send anything more before the handshake; CVE-2011-0411), performs the TLS handshake on
    /// the raw connection, and replaces <see cref="IDuplexPipe.Input"/> and <see cref="IDuplexPipe.Output"/>.
    /// </summary>
    Task StartTlsAsync(CancellationToken cancellationToken);

    /// <summary>The Caesar obfuscation is on (see <see cref="StartCaesarAsync"/>).</summary>
    bool IsCaesar { get; }

    /// <summary>The Caesar obfuscation could go on now: a plain connection, neither TLS nor Caesar yet.</summary>
    bool CanStartCaesar { get; }

    /// <summary>
    /// Turns on the original design's Caesar obfuscation: from here on every byte is shifted.
    /// Like <see cref="StartTlsAsync"/>, unread bytes are thrown away first.
    /// </summary>
    Task StartCaesarAsync(byte shift);

    /// <summary>
    /// Completes when input can be read (or the peer closed the connection), without reading
    /// any; the result is always 0. The caller has consumed everything buffered and flushed every
    /// reply, so the transport may hold no buffer while it waits. Read <see cref="IDuplexPipe.Input"/>
    /// and <see cref="IDuplexPipe.Output"/> afresh after it.
    /// </summary>
    ValueTask<int> WaitForInputAsync(CancellationToken cancellationToken);
}

/// <summary>Plain pipes with no TLS: in-memory session tests.</summary>
public sealed class PipeTransport(IDuplexPipe pipes) : ISmtpTransport
{
    public PipeReader Input => pipes.Input;

    public PipeWriter Output => pipes.Output;

    public bool IsTls => false;

    public bool CanStartTls => false;

    public string? TlsDescription => null;

    public Task StartTlsAsync(CancellationToken cancellationToken) => throw new NotSupportedException("This transport has no TLS.");

    public bool IsCaesar => false;

    public bool CanStartCaesar => false;

    public Task StartCaesarAsync(byte shift) => throw new NotSupportedException("This transport cannot change its bytes.");

    /// <summary>A read that consumes and examines nothing, so the next read returns the same bytes at once.</summary>
    public async ValueTask<int> WaitForInputAsync(CancellationToken cancellationToken)
    {
        var result = await pipes.Input.ReadAsync(cancellationToken).ConfigureAwait(false);
        pipes.Input.AdvanceTo(result.Buffer.Start);
        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        await pipes.Input.CompleteAsync().ConfigureAwait(false);
        await pipes.Output.CompleteAsync().ConfigureAwait(false);
    }
}
