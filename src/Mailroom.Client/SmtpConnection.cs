using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using Mailroom.Protocol.Data;
using Mailroom.Protocol.Replies;

namespace Mailroom.Client;

/// <summary>
/// A client connection to an SMTP server, on the same grammar the server uses. It greets with
/// EHLO (HELO when EHLO is refused), pipelines MAIL, RCPT and DATA when PIPELINING is offered
/// (RFC 2920: every reply of the group is read before acting on any), and stuffs dots on the way
/// out. Refusals raise <see cref="SmtpCommandException"/>; a broken connection raises
/// <see cref="SmtpProtocolException"/>.
/// </summary>
public sealed class SmtpConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly HashSet<string> _extensions = new(StringComparer.OrdinalIgnoreCase);

    private SmtpConnection(TcpClient tcp)
    {
        _tcp = tcp;
        var stream = tcp.GetStream();
        _input = PipeReader.Create(stream);
        _output = PipeWriter.Create(stream);
    }

    /// <summary>The EHLO keywords the server offered (empty after HELO).</summary>
    public IReadOnlySet<string> Extensions => _extensions;

    public static async Task<SmtpConnection> ConnectAsync(string host, int port, string clientName, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            tcp.Dispose();
            throw new SmtpProtocolException($"Cannot connect to {host}:{port}: {ex.Message}", ex);
        }

        var connection = new SmtpConnection(tcp);
        try
        {
            Expect("greeting", await connection.ReadReplyAsync(cancellationToken).ConfigureAwait(false), 220);
            await connection.GreetAsync(clientName, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task GreetAsync(string clientName, CancellationToken cancellationToken)
    {
        var ehlo = await CommandAsync("EHLO " + clientName, cancellationToken).ConfigureAwait(false);
        if (ehlo.Code == 250)
        {
            foreach (var line in ehlo.Lines.Skip(1))
            {
                _extensions.Add(line.Split(' ')[0]);
            }

            return;
        }

        // RFC 5321 3.2: a server that does not know EHLO answers 500 or 502; an RFC 821 client greets with HELO.
        Expect("HELO", await CommandAsync("HELO " + clientName, cancellationToken).ConfigureAwait(false), 250);
    }

    /// <summary>
    /// Sends one message to every recipient the server accepts. Returns the final reply (which
    /// carries the queue id) and the recipients that were refused; throws
    /// <see cref="SmtpCommandException"/> when nothing could be sent, after an RSET.
    /// </summary>
    public async Task<SendResult> SendAsync(string sender, IReadOnlyList<string> recipients, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        var commands = new List<string> { $"MAIL FROM:<{sender}>" };
        commands.AddRange(recipients.Select(r => $"RCPT TO:<{r}>"));
        commands.Add("DATA");
        commands.ForEach(EnsureOneLine);
        var replies = _extensions.Contains("PIPELINING")
            ? await PipelineAsync(commands, cancellationToken).ConfigureAwait(false)
            : await OneByOneAsync(commands, cancellationToken).ConfigureAwait(false);

        var refused = recipients.Zip(replies.Skip(1)).Where(x => x.Second.Code != 250).Select(x => (x.First, x.Second)).ToList();
        var data = replies.Count == commands.Count ? replies[^1] : null;
        if (data?.Code == 354)
        {
            var stuffer = new DotStuffer();
            stuffer.Write(message.Span, _output);
            stuffer.Complete(_output);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            var final = Expect("end of data", await ReadReplyAsync(cancellationToken).ConfigureAwait(false), 250);
            return new SendResult(final, refused, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        }

        // Nothing was sent: name the first refusal that explains it, and leave no transaction behind.
        var culprit = replies[0].Code != 250 ? (commands[0], replies[0])
            : refused.Count == recipients.Count && refused.Count > 0 ? ($"RCPT TO:<{refused[0].First}>", refused[0].Second)
            : ("DATA", data ?? replies[^1]);
        if (replies[0].Code == 250)
        {
            await CommandAsync("RSET", cancellationToken).ConfigureAwait(false);
        }

        throw new SmtpCommandException(culprit.Item1, culprit.Item2);
    }

    /// <summary>RFC 2920: the group goes out in one write, and every reply is read before any is acted on.</summary>
    private async Task<List<SmtpReply>> PipelineAsync(List<string> commands, CancellationToken cancellationToken)
    {
        foreach (var command in commands)
        {
            Write(command);
        }

        await FlushAsync(cancellationToken).ConfigureAwait(false);
        var replies = new List<SmtpReply>();
        for (var i = 0; i < commands.Count; i++)
        {
            replies.Add(await ReadReplyAsync(cancellationToken).ConfigureAwait(false));
        }

        return replies;
    }

    /// <summary>Without PIPELINING: stop after a refused MAIL, and send DATA only when a recipient was accepted.</summary>
    private async Task<List<SmtpReply>> OneByOneAsync(List<string> commands, CancellationToken cancellationToken)
    {
        var replies = new List<SmtpReply> { await CommandAsync(commands[0], cancellationToken).ConfigureAwait(false) };
        if (replies[0].Code != 250)
        {
            return replies;
        }

        for (var i = 1; i < commands.Count - 1; i++)
        {
            replies.Add(await CommandAsync(commands[i], cancellationToken).ConfigureAwait(false));
        }

        if (replies.Skip(1).Any(r => r.Code == 250))
        {
            replies.Add(await CommandAsync(commands[^1], cancellationToken).ConfigureAwait(false));
        }

        return replies;
    }

    public async Task QuitAsync(CancellationToken cancellationToken)
    {
        await CommandAsync("QUIT", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends one command line and reads its reply, whatever it is.</summary>
    public async Task<SmtpReply> CommandAsync(string line, CancellationToken cancellationToken)
    {
        Write(line);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
    }

    private void Write(string line)
    {
        EnsureOneLine(line);
        _output.Write(Encoding.UTF8.GetBytes(line + "\r\n"));
    }

    /// <summary>A CR or LF inside an argument would end the command early and start another.</summary>
    private static void EnsureOneLine(string line)
    {
        if (line.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException("A command may not contain CR or LF.", nameof(line));
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new SmtpProtocolException("The connection broke while sending.", ex);
        }
    }

    private async Task<SmtpReply> ReadReplyAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new SmtpProtocolException("The connection broke while reading a reply.", ex);
            }

            var buffer = result.Buffer;
            bool complete;
            SmtpReply? reply;
            try
            {
                complete = ReplyParser.TryParse(ref buffer, enhanced: true, out reply);
            }
            catch (FormatException ex)
            {
                throw new SmtpProtocolException(ex.Message, ex);
            }

            if (complete)
            {
                _input.AdvanceTo(buffer.Start);
                return reply!;
            }

            _input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new SmtpProtocolException("The server closed the connection.");
            }
        }
    }

    private static SmtpReply Expect(string what, SmtpReply reply, int code) =>
        reply.Code == code ? reply : throw new SmtpCommandException(what, reply);

    public async ValueTask DisposeAsync()
    {
        await _input.CompleteAsync().ConfigureAwait(false);
        await _output.CompleteAsync().ConfigureAwait(false);
        _tcp.Dispose();
    }
}
