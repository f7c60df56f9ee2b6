using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Mailroom.Core.Audit;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;
using Mailroom.Server.Transport;

namespace Mailroom.Server;

/// <summary>
/// The listeners: accepts connections, applies the connection caps, and runs one
/// <see cref="SmtpSession"/> per connection on the thread pool (no thread per connection).
/// Shutdown is graceful: stop accepting, let transfers in progress finish within the grace
/// period, answer 421 4.3.2 to the rest.
/// </summary>
public sealed class SmtpServer : IAsyncDisposable
{
    private readonly SmtpServices _services;
    private readonly ConnectionLimiter _limiter;
    private readonly CancellationTokenSource _graceful = new();
    private readonly CancellationTokenSource _hardStop = new();

    /// <summary>
    /// Connections being served, counted rather than kept in a collection: an entry and a
    /// continuation per connection cost an idle session about 280 bytes.
    /// </summary>
    private int _connections;

    /// <summary>Completed when the server has stopped and the last connection has ended.</summary>
    private readonly TaskCompletionSource _allEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(Socket Socket, SmtpListener Listener)> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
    private volatile bool _stopped;

    public SmtpServer(SmtpServices services)
    {
        ArgumentNullException.ThrowIfNull(services);
        _services = services;
        _limiter = new ConnectionLimiter(services.Options.MaxConnections, services.Options.MaxConnectionsPerAddress);
    }

    /// <summary>The addresses actually bound (a port of 0 becomes the port the system chose).</summary>
    public IReadOnlyList<IPEndPoint> Endpoints => _listeners.Select(l => (IPEndPoint)l.Socket.LocalEndPoint!).ToArray();

    /// <summary>Binds plain SMTP listeners (STARTTLS offered when there is a certificate) and starts accepting.</summary>
    public void Start(IEnumerable<IPEndPoint> endpoints) => Start(endpoints.Select(e => new SmtpListener(e)));

    /// <summary>Binds every listener (failing before any is served if one cannot be bound) and starts accepting.</summary>
    public void Start(IEnumerable<SmtpListener> listeners)
    {
        ArgumentNullException.ThrowIfNull(listeners);
        foreach (var definition in listeners)
        {
            var endpoint = definition.Endpoint;
            if (definition.ImplicitTls && _services.Certificates is null)
            {
                throw new InvalidOperationException($"The implicit TLS listener {endpoint} needs a certificate.");
            }

            var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (endpoint.AddressFamily == AddressFamily.InterNetworkV6 && endpoint.Address.Equals(IPAddress.IPv6Any))
                {
                    socket.DualMode = true;
                }

                socket.Bind(endpoint);
                socket.Listen(512);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            _listeners.Add((socket, definition));
            Log.Listening(_services.Logger, socket.LocalEndPoint!);
        }

        foreach (var (socket, definition) in _listeners)
        {
            _acceptLoops.Add(Task.Run(() => AcceptLoopAsync(socket, definition)));
        }
    }

    private async Task AcceptLoopAsync(Socket listener, SmtpListener definition)
    {
        while (!_graceful.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_graceful.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                // A connection reset before it was accepted, or the system ran out of descriptors:
                // keep listening, but give the system a moment rather than spin on the error.
                Log.AcceptFailed(_services.Logger, ex, listener.LocalEndPoint);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(50), _services.Time, _graceful.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            Interlocked.Increment(ref _connections);
            _ = ServeConnectionAsync(client, definition);
        }
    }

    /// <summary>Serves one connection to its end; never throws. The last one to end after a stop completes <see cref="_allEnded"/>.</summary>
    private async Task ServeConnectionAsync(Socket socket, SmtpListener listener)
    {
        try
        {
            await Task.Yield();
            var remote = (IPEndPoint)socket.RemoteEndPoint!;
            var info = new ConnectionInfo(NewSessionId(), remote, (IPEndPoint)socket.LocalEndPoint!, listener.Role);
            var refusal = _limiter.TryAcquire(remote.Address);
            if (refusal is not null)
            {
                Log.ConnectionRefused(_services.Logger, remote, refusal.Lines[0]);
                var audit = new AuditRecorder(_services, info);
                audit.Record(audit.Event(AuditKinds.Connect, AuditText.Outcome(refusal), null) with
                {
                    Reply = AuditText.Reply(refusal),
                    Detail = info.Local.ToString(),
                });
                await RefuseAsync(socket, refusal).ConfigureAwait(false);
                return;
            }

            var released = false;
            try
            {
                socket.NoDelay = true;
                var stream = new NetworkStream(socket, ownsSocket: true);
                await using (stream.ConfigureAwait(false))
                {
                    // RFC 8314 3.3: on an implicit TLS port the handshake comes before the greeting.
                    var transport = listener.ImplicitTls
                        ? await HandshakeAsync(stream, info).ConfigureAwait(false)
                        : StreamTransport.Create(stream, _services.Certificates);
                    var session = new SmtpSession(transport, _services, info, _graceful.Token, _hardStop.Token);
                    await using (session.ConfigureAwait(false))
                    {
                        await session.RunAsync().ConfigureAwait(false);
                    }

                    // Released before the socket closes, so a client that sees the close may connect again at once.
                    _limiter.Release(remote.Address);
                    released = true;
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
            {
                // The connection broke, or its implicit TLS handshake failed or never finished, before
                // a session could start; the session logs everything after.
                Log.ConnectionRefused(_services.Logger, remote, ex.Message);
                socket.Dispose();
            }
            finally
            {
                if (!released)
                {
                    _limiter.Release(remote.Address);
                }
            }
        }
#pragma warning disable CA1031 // Nothing awaits this task: what escapes a session is logged here, never lost.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SessionFailed(_services.Logger, ex, "-");
        }
        finally
        {
            if (Interlocked.Decrement(ref _connections) == 0 && _stopped)
            {
                _allEnded.TrySetResult();
            }
        }
    }

    /// <summary>The implicit TLS handshake, bounded by its timeout and the hard stop; a failure is audited here, as no session will start.</summary>
    private async Task<StreamTransport> HandshakeAsync(NetworkStream stream, ConnectionInfo info)
    {
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(_hardStop.Token);
        handshake.CancelAfter(_services.Options.TlsHandshakeTimeout);
        try
        {
            return await StreamTransport.CreateAsync(stream, _services.Certificates, implicitTls: true, handshake.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            // A successful handshake is recorded by the session, after its connect entry.
            var audit = new AuditRecorder(_services, info);
            audit.Record(audit.Event(AuditKinds.Tls, AuditOutcome.Refused, null) with { Detail = AuditText.TlsFailure(ex) });
            throw;
        }
    }

    private static async Task RefuseAsync(Socket socket, SmtpReply reply)
    {
        using (socket)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await socket.SendAsync(System.Text.Encoding.UTF8.GetBytes(reply.ToString()), SocketFlags.None, cts.Token).ConfigureAwait(false);
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client is gone already.
            }
        }
    }

    private static string NewSessionId() => Convert.ToHexString(RandomNumberGenerator.GetBytes(6));

    /// <summary>Stops accepting, lets transfers finish within the grace period, then ends every session.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        Log.ShuttingDown(_services.Logger, Volatile.Read(ref _connections));
        await _graceful.CancelAsync().ConfigureAwait(false);
        foreach (var listener in _listeners)
        {
            listener.Socket.Dispose();
        }

        await Task.WhenAll(_acceptLoops).ConfigureAwait(false);
        if (Volatile.Read(ref _connections) == 0)
        {
            _allEnded.TrySetResult();
        }

        var all = _allEnded.Task;
        if (await Task.WhenAny(all, Task.Delay(_services.Options.ShutdownGracePeriod, _services.Time)).ConfigureAwait(false) != all)
        {
            await _hardStop.CancelAsync().ConfigureAwait(false);
        }

        try
        {
            await all.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
        {
            // Sessions end on their own terms; anything they throw was already logged.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _graceful.Dispose();
        _hardStop.Dispose();
    }
}
