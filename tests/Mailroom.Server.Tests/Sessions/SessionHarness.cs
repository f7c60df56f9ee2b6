using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Mailroom.Core.Accounts;
using Mailroom.Core.Audit;
using Mailroom.Core.Storage;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Dns;
using Mailroom.Server.Session;
using Mailroom.Server.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mailroom.Server.Tests.Sessions;

/// <summary>
/// One session over in-memory pipes: the test plays the client, byte for byte, and reads the
/// replies as a client would. No sockets, no sleeps.
/// </summary>
public sealed class SessionHarness : IAsyncDisposable
{
    private static readonly TimeSpan ReplyWait = TimeSpan.FromSeconds(20);
    private readonly Pipe _toServer = new();
    private readonly Pipe _fromServer = new();
    private readonly CancellationTokenSource _graceful = new();
    private readonly CancellationTokenSource _hardStop = new();
    private readonly CountingWriter _serverOutput;

    public SessionHarness(SmtpServerOptions? options = null, InMemoryMailStore? store = null, IAuditLog? audit = null)
        : this(options, store ?? new InMemoryMailStore().WithDomain("example.test").WithMailbox("alice@example.test").WithMailbox("bob@example.test"), audit, null, null)
    {
    }

    /// <param name="options">Server settings; a host name of mx.test and no reverse DNS by default.</param>
    /// <param name="store">Any store: the in-memory fake, or a real one for the mailbox commands.</param>
    /// <param name="audit">Where the session's audit events go; nowhere by default.</param>
    /// <param name="authenticator">Checks passwords, so AUTH and LOGN work (on loopback, with AllowPlaintextAuthOnLoopback).</param>
    /// <param name="remote">The client's address; 192.0.2.10:40000 by default.</param>
    public SessionHarness(SmtpServerOptions? options, IMailStore store, IAuditLog? audit, Authenticator? authenticator, IPEndPoint? remote)
    {
        Options = options ?? new SmtpServerOptions { HostName = "mx.test", ReverseDnsLookup = false };
        MailStore = store;
        _serverOutput = new CountingWriter(_fromServer.Writer);
        var services = new SmtpServices(Options, store, NullLogger.Instance, NoReverseDns.Instance, authenticator: authenticator, audit: audit);
        var connection = new ConnectionInfo("test", remote ?? new IPEndPoint(IPAddress.Parse("192.0.2.10"), 40000), new IPEndPoint(IPAddress.Loopback, 25));
        Session = new SmtpSession(new Duplex(_toServer.Reader, _serverOutput), services, connection, _graceful.Token, _hardStop.Token);
        Run = Task.Run(Session.RunAsync);
    }

    public SmtpServerOptions Options { get; }

    public IMailStore MailStore { get; }

    /// <summary>The in-memory store, for the tests that use it.</summary>
    public InMemoryMailStore Store => MailStore as InMemoryMailStore ?? throw new InvalidOperationException("This harness runs on another store.");

    public SmtpSession Session { get; }

    public Task<SessionEnd> Run { get; }

    /// <summary>How many times the server flushed its replies to the connection.</summary>
    public int Flushes => _serverOutput.Flushes;

    /// <summary>The most octets of replies the server has sent in one flush.</summary>
    public long LargestFlush => _serverOutput.LargestFlush;

    /// <summary>
    /// How many octets the server has queued for the client so far, flushed or not: a test can
    /// tell whether a reply was queued at a given moment, not only whether it was sent.
    /// </summary>
    public long BytesWritten => _serverOutput.BytesWritten;

    public async Task SendAsync(string text) => await SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await _toServer.Writer.WriteAsync(bytes);
    }

    public async Task<SmtpReply> ReadReplyAsync()
    {
        using var cts = new CancellationTokenSource(ReplyWait);
        while (true)
        {
            var result = await _fromServer.Reader.ReadAsync(cts.Token);
            var buffer = result.Buffer;
            if (ReplyParser.TryParse(ref buffer, enhanced: true, out var reply))
            {
                _fromServer.Reader.AdvanceTo(buffer.Start);
                return reply!;
            }

            _fromServer.Reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new EndOfStreamException("The server closed the connection.");
            }
        }
    }

    /// <summary>Exactly <paramref name="count"/> raw octets, as they follow a NEXT or PREV reply.</summary>
    public async Task<byte[]> ReadBytesAsync(long count)
    {
        using var cts = new CancellationTokenSource(ReplyWait);
        while (true)
        {
            var result = await _fromServer.Reader.ReadAsync(cts.Token);
            if (result.Buffer.Length >= count)
            {
                var bytes = result.Buffer.Slice(0, count).ToArray();
                _fromServer.Reader.AdvanceTo(result.Buffer.GetPosition(count));
                return bytes;
            }

            _fromServer.Reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            if (result.IsCompleted)
            {
                throw new EndOfStreamException("The server closed the connection inside a message.");
            }
        }
    }

    /// <summary>Sends one command line and returns its reply.</summary>
    public async Task<SmtpReply> CommandAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReadReplyAsync();
    }

    /// <summary>Sends one command line and checks the reply's code.</summary>
    public async Task<SmtpReply> ExpectAsync(string line, int code)
    {
        var reply = await CommandAsync(line);
        Assert.True(reply.Code == code, $"'{line}' got {reply} where {code} was expected");
        return reply;
    }

    /// <summary>Greets with EHLO and reads the 220 first.</summary>
    public async Task<SmtpReply> StartAsync(string greeting = "EHLO client.test")
    {
        Assert.Equal(220, (await ReadReplyAsync()).Code);
        return await ExpectAsync(greeting, 250);
    }

    /// <summary>Greets, then opens a transaction from s@remote.test to alice@example.test.</summary>
    public async Task StartTransactionAsync()
    {
        await StartAsync();
        await ExpectAsync("MAIL FROM:<s@remote.test>", 250);
        await ExpectAsync("RCPT TO:<alice@example.test>", 250);
    }

    /// <summary>True when the server has closed its side and nothing more will come.</summary>
    public async Task<bool> ServerClosedAsync()
    {
        using var cts = new CancellationTokenSource(ReplyWait);
        var result = await _fromServer.Reader.ReadAsync(cts.Token);
        _fromServer.Reader.AdvanceTo(result.Buffer.End);
        return result.IsCompleted && result.Buffer.IsEmpty;
    }

    public void CloseClient() => _toServer.Writer.Complete();

    public void BeginShutdown() => _graceful.Cancel();

    /// <summary>The end of the shutdown grace period: transfers still running are cut.</summary>
    public void HardStop()
    {
        _graceful.Cancel();
        _hardStop.Cancel();
    }

    public async ValueTask DisposeAsync()
    {
        await _toServer.Writer.CompleteAsync();
        _graceful.Cancel();
        _hardStop.Cancel();
        await Run.WaitAsync(ReplyWait);
        await Session.DisposeAsync();
        _graceful.Dispose();
        _hardStop.Dispose();
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>Passes everything through and counts flushes, so a test can see pipelined replies batched.</summary>
    private sealed class CountingWriter(PipeWriter inner) : PipeWriter
    {
        private int _flushes;
        private long _written;
        private long _largestFlush;

        public int Flushes => Volatile.Read(ref _flushes);

        /// <summary>The most octets one flush has sent: what the session held back at its worst.</summary>
        public long LargestFlush => Interlocked.Read(ref _largestFlush);

        public long BytesWritten => Interlocked.Read(ref _written);

        public override void Advance(int bytes)
        {
            Interlocked.Add(ref _written, bytes);
            inner.Advance(bytes);
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            var unflushed = inner.UnflushedBytes;
            if (unflushed > 0)
            {
                Interlocked.Increment(ref _flushes);
                if (unflushed > Interlocked.Read(ref _largestFlush))
                {
                    Interlocked.Exchange(ref _largestFlush, unflushed);
                }
            }

            return inner.FlushAsync(cancellationToken);
        }

        public override bool CanGetUnflushedBytes => true;

        public override long UnflushedBytes => inner.UnflushedBytes;
    }
}
