using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Mailroom.Protocol.Replies;

namespace Mailroom.Client;

/// <summary>
/// A client connection to an SMTP server, on the same grammar the server uses: EHLO (HELO when
/// EHLO is refused), STARTTLS or implicit TLS, AUTH, pipelined transactions and the mailbox
/// commands. Refusals raise <see cref="SmtpCommandException"/> and leave the connection usable; a
/// broken connection, a reply that does not parse, a TLS failure or a timeout raise
/// <see cref="SmtpProtocolException"/>, after which every call fails the same way.
/// </summary>
public sealed partial class SmtpConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly string _host;
    private readonly SmtpClientOptions _options;
    private readonly string? _pin;
    private readonly Dictionary<string, string> _extensions = new(StringComparer.OrdinalIgnoreCase);
    private Stream _stream;
    private SslStream? _ssl;
    private PipeReader _input;
    private PipeWriter _output;
    private ReplyReader _replies;
    private bool _broken;

    private SmtpConnection(TcpClient tcp, string host, SmtpClientOptions options, string? pin)
    {
        _tcp = tcp;
        _host = host;
        _options = options;
        _pin = pin;
        _stream = tcp.GetStream();
        (_input, _output, _replies) = Pipes(_stream);
    }

    /// <summary>The EHLO keywords the server offered (empty after HELO).</summary>
    public IReadOnlySet<string> Extensions => _extensions.Keys.ToHashSet(StringComparer.OrdinalIgnoreCase);

    public bool IsTls => _ssl is not null;

    /// <summary>The protocol and cipher suite, e.g. "TLS 1.3, TLS_AES_256_GCM_SHA384"; null without TLS.</summary>
    public string? TlsDescription => _ssl is null ? null : $"{ProtocolName(_ssl.SslProtocol)}, {_ssl.NegotiatedCipherSuite}";

    /// <summary>RFC 1870 4: the SIZE keyword's value; null when not announced or 0 (no fixed limit).</summary>
    public long? MaxMessageSize =>
        _extensions.TryGetValue("SIZE", out var value) && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0 ? size : null;

    public string? AuthenticatedUser { get; private set; }

    /// <summary>Plaintext, no TLS, as the benchmark connects.</summary>
    public static Task<SmtpConnection> ConnectAsync(string host, int port, string clientName, CancellationToken cancellationToken) =>
        ConnectAsync(host, port, new SmtpClientOptions { ClientName = clientName, Tls = TlsMode.None }, cancellationToken);

    public static async Task<SmtpConnection> ConnectAsync(string host, int port, SmtpClientOptions options, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentNullException.ThrowIfNull(options);
        EnsureOneLine(options.ClientName, nameof(options));
        var pin = NormalisePin(options.PinnedCertificateSha256);
        if (options.CaesarShift == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "An XCAESAR shift is 1 to 255.");
        }

        if (options.MinimumScramIterations is < 1 or > Mailroom.Protocol.Sasl.ScramSha256Client.MaxIterations)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "MinimumScramIterations is 1 to 10,000,000.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxMessageFetchSize, nameof(options));

        // Smaller than one reply line would refuse replies no server can shorten.
        if (options.MaxReplySize < Mailroom.Protocol.Replies.ReplyParser.MaxReplyLine)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"MaxReplySize is at least {Mailroom.Protocol.Replies.ReplyParser.MaxReplyLine} octets.");
        }

        var tcp = new TcpClient { NoDelay = true };
        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connectTimeout.CancelAfter(options.ConnectTimeout);
            try
            {
                await tcp.ConnectAsync(host, port, connectTimeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                tcp.Dispose();
                throw new SmtpProtocolException($"Cannot connect to {host}:{port}: {(ex is SocketException ? ex.Message : "timed out")}", ex);
            }
            catch
            {
                tcp.Dispose();
                throw;
            }
        }

        var connection = new SmtpConnection(tcp, host, options, pin);
        try
        {
            await connection.OpenAsync(port, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task OpenAsync(int port, CancellationToken cancellationToken)
    {
        // RFC 8314 3.3: on the submissions port the TLS handshake comes first, then the greeting.
        var implicitTls = _options.Tls == TlsMode.Implicit || (_options.Tls == TlsMode.Auto && port == 465);
        if (implicitTls)
        {
            await HandshakeAsync(cancellationToken).ConfigureAwait(false);
        }

        Expect("greeting", await ReadReplyAsync(cancellationToken).ConfigureAwait(false), 220);
        await GreetAsync(cancellationToken).ConfigureAwait(false);
        if (!implicitTls && _options.Tls is TlsMode.StartTls or TlsMode.Auto)
        {
            if (_extensions.ContainsKey("STARTTLS"))
            {
                await StartTlsAsync(cancellationToken).ConfigureAwait(false);
            }
            else if (_options.Tls == TlsMode.StartTls)
            {
                // Never carry on in plaintext when TLS was asked for (RFC 3207 6 on downgrade by a man in the middle).
                throw new SmtpSecurityException("The server does not offer STARTTLS, and TLS was required.");
            }
            else if (_pin is not null)
            {
                // A pin says the server has TLS; its STARTTLS missing from EHLO is a strip on the path (RFC 3207 6).
                throw new SmtpSecurityException("The server does not offer STARTTLS, but a certificate is pinned for it; refusing to continue in plaintext.");
            }
        }

        if (_options.CaesarShift is { } shift)
        {
            await StartCaesarAsync(shift, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task GreetAsync(CancellationToken cancellationToken)
    {
        _extensions.Clear();
        var ehlo = await CommandAsync("EHLO " + _options.ClientName, cancellationToken).ConfigureAwait(false);
        if (ehlo.Code == 250)
        {
            // RFC 5321 4.1.1.1: ehlo-line = ehlo-keyword *( SP ehlo-param ).
            foreach (var line in ehlo.Lines.Skip(1))
            {
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                _extensions[space < 0 ? line : line[..space]] = space < 0 ? string.Empty : line[(space + 1)..];
            }

            return;
        }

        // RFC 5321 3.2: a server that does not know EHLO answers 500 or 502; an RFC 821 client greets with HELO.
        Expect("HELO", await CommandAsync("HELO " + _options.ClientName, cancellationToken).ConfigureAwait(false), 250);
    }

    private async Task StartTlsAsync(CancellationToken cancellationToken)
    {
        var reply = await CommandAsync("STARTTLS", cancellationToken).ConfigureAwait(false);
        if (reply.Code != 220)
        {
            throw new SmtpSecurityException($"STARTTLS was refused: {reply.ToString().TrimEnd()}");
        }

        await HandshakeAsync(cancellationToken).ConfigureAwait(false);

        // RFC 3207 4.2: "The client MUST discard any knowledge obtained from the server ... which
        // was not obtained from the TLS negotiation itself", and SHOULD send EHLO again.
        await GreetAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task StartCaesarAsync(byte shift, CancellationToken cancellationToken)
    {
        if (!_extensions.ContainsKey("XCAESAR"))
        {
            throw new SmtpProtocolException("The server does not offer XCAESAR.");
        }

        var reply = await CommandAsync(string.Create(CultureInfo.InvariantCulture, $"XCAESAR {shift}"), cancellationToken).ConfigureAwait(false);
        if (reply.Code != 220)
        {
            throw new SmtpProtocolException($"XCAESAR was refused: {reply.ToString().TrimEnd()}");
        }

        ReplaceStream(new CaesarStream(_stream, shift));
    }

    /// <summary>The TLS handshake on the current stream; the plaintext pipes are thrown away first.</summary>
    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
        ReplaceStream(ssl);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = _options.TlsHost ?? _host,
            RemoteCertificateValidationCallback = ValidateCertificate,
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.CommandTimeout);
        try
        {
            await ssl.AuthenticateAsClientAsync(options, timeout.Token).ConfigureAwait(false);
        }
        catch (AuthenticationException ex)
        {
            // A certificate or pin that does not check out, or no protocol in common: not cured by retrying.
            _broken = true;
            throw new SmtpSecurityException($"The TLS handshake failed: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            _broken = true;
            throw new SmtpProtocolException($"The TLS handshake failed: {ex.Message}", ex);
        }

        _ssl = ssl;
    }

    /// <summary>A pinned certificate is trusted by its fingerprint alone (it is usually self-signed); otherwise the chain and name must validate.</summary>
    private bool ValidateCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (_pin is null)
        {
            return errors == SslPolicyErrors.None;
        }

        return certificate is not null && Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)) == _pin;
    }

    private static string? NormalisePin(string? pin)
    {
        if (pin is null)
        {
            return null;
        }

        var hex = new string(pin.Where(c => c is not (':' or ' ')).ToArray()).ToUpperInvariant();
        if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException("A SHA-256 fingerprint is 64 hex digits.", nameof(pin));
        }

        return hex;
    }

    private static string ProtocolName(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLS 1.3",
        SslProtocols.Tls12 => "TLS 1.2",
        _ => protocol.ToString(),
    };

    /// <summary>Puts a new stream under the pipes. Anything the server sent before it is an injection, not a reply.</summary>
    private void ReplaceStream(Stream stream)
    {
        if (_replies.HasBufferedInput())
        {
            _broken = true;
            throw new SmtpProtocolException("The server sent data before the new session began; refusing it (CVE-2011-0411).");
        }

        _input.Complete();
        _output.Complete();
        _stream = stream;
        (_input, _output, _replies) = Pipes(stream);
    }

    private (PipeReader, PipeWriter, ReplyReader) Pipes(Stream stream)
    {
        var input = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        var output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        return (input, output, new ReplyReader(input, _options.Trace, _options.MaxReplySize));
    }

    public async Task QuitAsync(CancellationToken cancellationToken)
    {
        EnsureUsable();
        await CommandAsync("QUIT", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends one command line and reads its reply, whatever it is.</summary>
    public async Task<SmtpReply> CommandAsync(string line, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(line);
        EnsureOneLine(line, nameof(line));
        EnsureUsable();
        return await CommandAsync(line, traceAs: null, cancellationToken).ConfigureAwait(false);
    }

    private async Task<SmtpReply> CommandAsync(string line, string? traceAs, CancellationToken cancellationToken)
    {
        Write(line, traceAs);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <param name="traceAs">What the trace shows instead of a line that carries a secret.</param>
    private void Write(string line, string? traceAs = null)
    {
        EnsureOneLine(line, nameof(line));
        _options.Trace?.Invoke(false, traceAs ?? line);
        _output.Write(Encoding.UTF8.GetBytes(line + "\r\n"));
    }

    /// <summary>A CR or LF inside an argument would end the command early and start another (RFC 5321 2.3.8).</summary>
    private static void EnsureOneLine(string? text, string parameter)
    {
        if (text is not null && text.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException("A command argument may not contain CR or LF.", parameter);
        }
    }

    /// <summary>
    /// Credentials go only over TLS, unless the caller chose plaintext with <see cref="TlsMode.None"/>
    /// (loopback tests, XCAESAR): in Auto a stripped STARTTLS must not turn into a password in clear.
    /// </summary>
    private void EnsureSafeForCredentials(string what)
    {
        if (!IsTls && _options.Tls != TlsMode.None)
        {
            throw new SmtpSecurityException($"The connection is not encrypted; {what} would send the password in clear. Use TLS, or TlsMode.None to allow plaintext explicitly.");
        }
    }

    private void EnsureUsable()
    {
        if (_broken)
        {
            throw new SmtpProtocolException("The connection broke earlier; reconnect.");
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken) =>
        await TimedAsync("sending", async token => await _output.FlushAsync(token).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    private Task<SmtpReply> ReadReplyAsync(CancellationToken cancellationToken) =>
        TimedAsync("waiting for a reply", token => _replies.ReadAsync(token).AsTask(), cancellationToken);

    /// <summary>
    /// One place for the connection's failures: each read or write waits at most CommandTimeout
    /// (RFC 5321 4.5.3.2 gives the server minutes, not forever), and a timeout, a broken socket or
    /// a cancellation leaves the connection unusable, since we no longer know where the dialogue stands.
    /// </summary>
    private async Task<T> TimedAsync<T>(string what, Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        EnsureUsable();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.CommandTimeout);
        try
        {
            return await operation(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            _broken = true;
            throw new SmtpProtocolException($"Timed out after {_options.CommandTimeout} {what}.", ex);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            _broken = true;
            throw new SmtpProtocolException($"The connection broke while {what}: {ex.Message}", ex);
        }
        catch
        {
            _broken = true;
            throw;
        }
    }

    private static SmtpReply Expect(string what, SmtpReply reply, int code) =>
        reply.Code == code ? reply : throw new SmtpCommandException(what, reply);

    public async ValueTask DisposeAsync()
    {
        await _input.CompleteAsync().ConfigureAwait(false);
        await _output.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _tcp.Dispose();
    }
}
