using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
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

    public SessionHarness(SmtpServerOptions? options = null, InMemoryMailStore? store = null)
    {
        Options = options ?? new SmtpServerOptions { HostName = "mx.test", ReverseDnsLookup = false };
        Store = store ?? new InMemoryMailStore().WithDomain("example.test").WithMailbox("alice@example.test").WithMailbox("bob@example.test");
        _serverOutput = new CountingWriter(_fromServer.Writer);
        var services = new SmtpServices(Options, Store, NullLogger.Instance, NoReverseDns.Instance);
        var connection = new ConnectionInfo("test", new IPEndPoint(IPAddress.Parse("192.0.2.10"), 40000), new IPEndPoint(IPAddress.Loopback, 25));
        Session = new SmtpSession(new Duplex(_toServer.Reader, _serverOutput), services, connection, _graceful.Token, _hardStop.Token);
        Run = Task.Run(Session.RunAsync);
    }

    public SmtpServerOptions Options { get; }

    public InMemoryMailStore Store { get; }

    public SmtpSession Session { get; }

    public Task<SessionEnd> Run { get; }

    /// <summary>How many times the server flushed its replies to the connection.</summary>
    public int Flushes => _serverOutput.Flushes;

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

        public int Flushes => Volatile.Read(ref _flushes);

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            if (inner.UnflushedBytes > 0)
            {
                Interlocked.Increment(ref _flushes);
            }

            return inner.FlushAsync(cancellationToken);
        }

        public override bool CanGetUnflushedBytes => true;

        public override long UnflushedBytes => inner.UnflushedBytes;
    }
}
