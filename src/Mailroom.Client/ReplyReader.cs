using System.Buffers;
using System.IO.Pipelines;
using Mailroom.Protocol.Replies;

namespace Mailroom.Client;

/// <summary>
/// Reads replies (RFC 5321 4.2) and counted octets (the mailbox commands' framing) off a pipe,
/// however the bytes arrive: whole, line by line or one at a time. A reply that does not parse, or
/// a connection that ends inside one, is an <see cref="SmtpProtocolException"/>.
/// </summary>
internal sealed class ReplyReader(PipeReader input, Action<bool, string>? trace = null, long maxReplySize = SmtpClientOptions.DefaultMaxReplySize)
{
    public async ValueTask<SmtpReply> ReadAsync(CancellationToken cancellationToken)
    {
        // The octets of the reply's continuation lines seen so far: each is looked at once, and a
        // server that never ends its reply meets the limit instead of growing our memory.
        long scanned = 0;
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            SmtpReply? reply = null;
            bool complete;
            try
            {
                complete = ReplyParser.HasFinalLine(buffer, ref scanned) && ReplyParser.TryParse(ref buffer, enhanced: true, out reply);
                if (!complete && scanned > maxReplySize)
                {
                    throw new FormatException($"The reply is longer than {maxReplySize} octets (MaxReplySize).");
                }
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException)
            {
                // The parser refuses a code outside 2xx-5xx itself (RFC 5321 4.2); ArgumentException
                // stays caught so that SmtpReply's own checks can never escape as anything but a protocol error.
                input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                throw new SmtpProtocolException("The server's reply does not parse: " + ex.Message, ex);
            }

            if (complete)
            {
                input.AdvanceTo(buffer.Start);
                if (trace is not null)
                {
                    foreach (var line in reply!.ToString().Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
                    {
                        trace(true, line);
                    }
                }

                return reply!;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new SmtpProtocolException("The server closed the connection.");
            }
        }
    }

    /// <summary>Exactly <paramref name="count"/> octets, as NEXT and PREV send a message.</summary>
    public async ValueTask<byte[]> ReadExactAsync(int count, CancellationToken cancellationToken)
    {
        var content = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var take = result.Buffer.Slice(0, Math.Min(result.Buffer.Length, count - filled));
            take.CopyTo(content.AsSpan(filled));
            filled += (int)take.Length;
            input.AdvanceTo(take.End);
            if (filled < count && result.IsCompleted)
            {
                throw new SmtpProtocolException($"The server closed the connection after {filled} of {count} octets.");
            }
        }

        trace?.Invoke(true, $"<{count} octets of message>");
        return content;
    }

    /// <summary>
    /// True when the server sent something we have not asked for yet. After STARTTLS or XCAESAR
    /// that would be plaintext injected into the new session (CVE-2011-0411, RFC 3207 6).
    /// </summary>
    public bool HasBufferedInput()
    {
        if (!input.TryRead(out var result))
        {
            return false;
        }

        input.AdvanceTo(result.Buffer.Start);
        return !result.Buffer.IsEmpty;
    }
}
