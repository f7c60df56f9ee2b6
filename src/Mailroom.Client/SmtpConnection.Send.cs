using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Mailroom.Protocol.Data;
using Mailroom.Protocol.Replies;

namespace Mailroom.Client;

public sealed partial class SmtpConnection
{
    /// <summary>BDAT chunks and DATA writes go out in pieces of this size, each flushed (and timed) on its own.</summary>
    private const int ChunkSize = 64 * 1024;

    /// <summary>
    /// Sends one message to every recipient the server accepts. Returns the final reply (which
    /// carries the queue id) and the recipients that were refused; throws
    /// <see cref="SmtpCommandException"/> when nothing could be sent, after an RSET.
    /// </summary>
    public Task<SendResult> SendAsync(string sender, IReadOnlyList<string> recipients, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        var stream = MemoryMarshal.TryGetArray(message, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(message.ToArray(), writable: false);
        return SendAsync(sender, recipients, stream, message.Length, progress: null, cancellationToken);
    }

    /// <summary>
    /// Streams <paramref name="length"/> octets of <paramref name="message"/> to every recipient the
    /// server accepts. Before anything is sent: SIZE is checked (<see cref="MessageTooLargeException"/>),
    /// and a message that needs 8BITMIME or SMTPUTF8 from a server that does not offer it is refused
    /// (<see cref="SmtpCommandException"/> without a reply). A seekable stream is read twice, once to
    /// see whether it is 7-bit with short lines; any other is taken to be 8-bit with long lines.
    /// <paramref name="progress"/> gets the octets of the message sent so far.
    /// </summary>
    /// <exception cref="ArgumentException">The scan found a bare CR or LF and the server has no CHUNKING; nothing was sent.</exception>
    public async Task<SendResult> SendAsync(string sender, IReadOnlyList<string> recipients, Stream message, long length, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(recipients);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        EnsureOneLine(sender, nameof(sender));
        foreach (var recipient in recipients)
        {
            ArgumentNullException.ThrowIfNull(recipient, nameof(recipients));
            EnsureOneLine(recipient, nameof(recipients));
        }

        if (recipients.Count == 0)
        {
            throw new ArgumentException("At least one recipient is needed.", nameof(recipients));
        }

        EnsureUsable();

        // RFC 1870 6: "a client SHOULD NOT send a message larger than the SIZE the server announced".
        if (MaxMessageSize is { } limit && length > limit)
        {
            throw new MessageTooLargeException(length, limit);
        }

        var shape = await MessageShape.ScanAsync(message, length, cancellationToken).ConfigureAwait(false);
        var (mail, useBdat) = MailCommand(sender, recipients, shape, length);
        if (!useBdat && shape.BareCrOrLf)
        {
            // RFC 5321 2.3.8 and 4.1.1.4: DATA is CRLF lines. A bare LF or CR cannot be stuffed
            // faithfully and gives "\n.\r\n" its SMTP-smuggling shape; BDAT carries it by count.
            throw new ArgumentException("The message has a bare CR or LF, which cannot be sent with DATA (the server does not offer CHUNKING); normalise line endings to CRLF.", nameof(message));
        }

        var envelope = new List<string> { mail };
        envelope.AddRange(recipients.Select(r => $"RCPT TO:<{r}>"));
        var (replies, dataReply) = _extensions.ContainsKey("PIPELINING")
            ? await PipelineAsync(envelope, withData: !useBdat, cancellationToken).ConfigureAwait(false)
            : await OneByOneAsync(envelope, withData: !useBdat, cancellationToken).ConfigureAwait(false);

        var refused = recipients.Zip(replies.Skip(1)).Where(x => x.Second.Code != 250).Select(x => (x.First, x.Second)).ToList();
        if (replies[0].Code != 250)
        {
            await EndUnwantedDataAsync(dataReply, cancellationToken).ConfigureAwait(false);
            throw new SmtpCommandException(mail, replies[0]);
        }

        if (refused.Count == recipients.Count)
        {
            await EndUnwantedDataAsync(dataReply, cancellationToken).ConfigureAwait(false);
            await ResetAsync(cancellationToken).ConfigureAwait(false);
            throw new SmtpCommandException($"RCPT TO:<{refused[0].First}>", refused[0].Second);
        }

        if (!useBdat && dataReply!.Code != 354)
        {
            await ResetAsync(cancellationToken).ConfigureAwait(false);
            throw new SmtpCommandException("DATA", dataReply);
        }

        var (final, latency) = useBdat
            ? await SendChunksAsync(message, length, progress, cancellationToken).ConfigureAwait(false)
            : await SendDataAsync(message, length, progress, cancellationToken).ConfigureAwait(false);
        return final.Code == 250 ? new SendResult(final, refused, latency) : throw new SmtpCommandException("end of data", final);
    }

    /// <summary>
    /// RFC 2920 3.1: a pipelined DATA that got 354 although MAIL or every RCPT failed leaves the
    /// server reading message data; an empty message ends it, so the next command is read as one.
    /// </summary>
    private async Task EndUnwantedDataAsync(SmtpReply? dataReply, CancellationToken cancellationToken)
    {
        if (dataReply?.Code != 354)
        {
            return;
        }

        Write(".");
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The MAIL command with what the message needs (RFC 1870 SIZE=, RFC 6152 BODY=8BITMIME, RFC 6531 SMTPUTF8), and whether to use BDAT.</summary>
    private (string Mail, bool UseBdat) MailCommand(string sender, IReadOnlyList<string> recipients, MessageShape shape, long length)
    {
        var utf8 = !Ascii.IsValid(sender) || recipients.Any(r => !Ascii.IsValid(r));
        if (utf8 && !_extensions.ContainsKey("SMTPUTF8"))
        {
            // RFC 6531 3.4: without SMTPUTF8 a non-ASCII address must not be sent.
            throw new SmtpCommandException("The server does not offer SMTPUTF8, which a non-ASCII address needs; nothing was sent.");
        }

        if (shape.EightBit && !_extensions.ContainsKey("8BITMIME"))
        {
            throw new SmtpCommandException("The server does not offer 8BITMIME, which an 8-bit message needs; nothing was sent.");
        }

        var mail = new StringBuilder($"MAIL FROM:<{sender}>");
        if (_extensions.ContainsKey("SIZE"))
        {
            mail.Append(CultureInfo.InvariantCulture, $" SIZE={length}");
        }

        if (shape.EightBit)
        {
            mail.Append(" BODY=8BITMIME");
        }

        if (utf8)
        {
            mail.Append(" SMTPUTF8");
        }

        return (mail.ToString(), _extensions.ContainsKey("CHUNKING") && !shape.SevenBitShortLines);
    }

    /// <summary>RFC 2920 3.1: the group goes out in one write, and every reply is read before any is acted on.</summary>
    private async Task<(List<SmtpReply> Replies, SmtpReply? Data)> PipelineAsync(List<string> envelope, bool withData, CancellationToken cancellationToken)
    {
        envelope.ForEach(c => Write(c));
        if (withData)
        {
            Write("DATA");
        }

        await FlushAsync(cancellationToken).ConfigureAwait(false);
        var replies = new List<SmtpReply>();
        foreach (var _ in envelope)
        {
            replies.Add(await ReadReplyAsync(cancellationToken).ConfigureAwait(false));
        }

        return (replies, withData ? await ReadReplyAsync(cancellationToken).ConfigureAwait(false) : null);
    }

    /// <summary>Without PIPELINING: stop after a refused MAIL, and send DATA only when a recipient was accepted.</summary>
    private async Task<(List<SmtpReply> Replies, SmtpReply? Data)> OneByOneAsync(List<string> envelope, bool withData, CancellationToken cancellationToken)
    {
        var replies = new List<SmtpReply> { await CommandAsync(envelope[0], null, cancellationToken).ConfigureAwait(false) };
        if (replies[0].Code != 250)
        {
            return (replies, null);
        }

        foreach (var rcpt in envelope.Skip(1))
        {
            replies.Add(await CommandAsync(rcpt, null, cancellationToken).ConfigureAwait(false));
        }

        var data = withData && replies.Skip(1).Any(r => r.Code == 250) ? await CommandAsync("DATA", null, cancellationToken).ConfigureAwait(false) : null;
        return (replies, data);
    }

    /// <summary>RFC 5321 4.5.2: dot-stuffed, ended by CRLF.CRLF.</summary>
    private async Task<(SmtpReply, TimeSpan)> SendDataAsync(Stream message, long length, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var stuffer = new DotStuffer();
        var buffer = new byte[ChunkSize];
        long sent = 0;
        while (sent < length)
        {
            var read = await ReadMessageAsync(message, buffer, length - sent, cancellationToken).ConfigureAwait(false);
            stuffer.Write(buffer.AsSpan(0, read), _output);
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            sent += read;
            progress?.Report(sent);
        }

        stuffer.Complete(_output);
        _options.Trace?.Invoke(false, string.Create(CultureInfo.InvariantCulture, $"<{length} octets of message>"));
        _options.Trace?.Invoke(false, ".");
        var started = Stopwatch.GetTimestamp();
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        return (await ReadReplyAsync(cancellationToken).ConfigureAwait(false), Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// RFC 3030 2: BDAT chunks counted in octets, no stuffing, the last marked LAST. After a refused
    /// chunk "the sender-SMTP MUST NOT send any additional BDAT segments" (RFC 3030 2), so RSET.
    /// </summary>
    private async Task<(SmtpReply, TimeSpan)> SendChunksAsync(Stream message, long length, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var buffer = new byte[ChunkSize];
        long sent = 0;
        while (true)
        {
            var read = length == sent ? 0 : await ReadMessageAsync(message, buffer, length - sent, cancellationToken).ConfigureAwait(false);
            var last = sent + read == length;
            Write(string.Create(CultureInfo.InvariantCulture, $"BDAT {read}{(last ? " LAST" : string.Empty)}"));
            _output.Write(buffer.AsSpan(0, read));
            var started = Stopwatch.GetTimestamp();
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            sent += read;
            progress?.Report(sent);
            var reply = await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
            if (last)
            {
                return (reply, Stopwatch.GetElapsedTime(started));
            }

            if (reply.Code != 250)
            {
                await ResetAsync(cancellationToken).ConfigureAwait(false);
                throw new SmtpCommandException("BDAT", reply);
            }
        }
    }

    /// <summary>Fills as much of the buffer as the message gives; a message shorter than its length breaks the transfer we promised.</summary>
    private async Task<int> ReadMessageAsync(Stream message, byte[] buffer, long left, CancellationToken cancellationToken)
    {
        var want = (int)Math.Min(buffer.Length, left);
        var read = await message.ReadAtLeastAsync(buffer.AsMemory(0, want), want, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read < want)
        {
            _broken = true;
            throw new SmtpProtocolException("The message ended before its stated length; the transfer was abandoned.");
        }

        return read;
    }

    private async Task ResetAsync(CancellationToken cancellationToken) =>
        Expect("RSET", await CommandAsync("RSET", null, cancellationToken).ConfigureAwait(false), 250);
}
