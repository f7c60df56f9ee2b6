using System.Buffers;
using System.IO.Pipelines;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Data;
using Mailroom.Protocol.Replies;

namespace Mailroom.Server.Session;

/// <summary>Everything the session reads: command lines, DATA, BDAT chunks. Each read is bounded in time.</summary>
public sealed partial class SmtpSession
{
    /// <summary>Content is un-stuffed in slices of this size so the scratch buffer stays small.</summary>
    private const int SliceSize = 16 * 1024;

    /// <summary>
    /// Replies held back for a pipelined group are flushed once they reach this size, so a client
    /// that sends commands without reading replies meets TCP backpressure instead of growing the
    /// server's memory.
    /// </summary>
    private const int MaxUnflushedReplies = 16 * 1024;

    /// <summary>How much of a command line too long to keep is held for the audit log: enough for its first word.</summary>
    private const int LongLineStartSize = 64;

    private byte[]? _scratch;

    /// <summary>The first octets of the command line being discarded for its length, for the audit log.</summary>
    private byte[]? _longLineStart;

    /// <summary>The last MAIL, RCPT, EHLO... line and its command, so a repeated line is not parsed again; nothing until the first such line.</summary>
    private CommandLineCache _commandLines;

    /// <summary>
    /// A command line as read: the command, or the reply saying why it is not one, with what the
    /// audit log keeps of such a line (<see cref="AuditText.Unparsed"/>).
    /// </summary>
    private readonly record struct NextCommand(SmtpCommand? Command, SmtpReply? Error, bool Closed, bool Fatal = false, string? AuditVerb = null, string? AuditArguments = null);

    /// <summary>
    /// Reads the next command line. Replies still queued are flushed before waiting for input, and
    /// only then: a pipelined group is answered in one write.
    /// </summary>
    private async ValueTask<NextCommand> ReadCommandLineAsync()
    {
        var (next, closed) = await ReadLineAsync(
            Options.MaxCommandLineLength,
            static (SmtpSession session, LineStatus status, in ReadOnlySequence<byte> line) => WithAuditText(session, status, line, status switch
            {
                LineStatus.Line => FromParse(session.Parse(line)),

                // RFC 5321 2.3.8: a line ends with CRLF, nothing else. Refusing the bare LF keeps
                // the session's idea of a line the same as every other server's on the path.
                LineStatus.BareLineFeed => CommandParser.IsBdatLine(line) ? FramingLost() : new NextCommand(null, ReplyCatalogue.BareLineEnding, false),
                _ => session._lineReader.DiscardedLineWasBdat
                    ? FramingLost()
                    : new NextCommand(null, ReplyCatalogue.LineTooLong.Format(session.Options.MaxCommandLineLength), false),
            }),
            keepLongLineStart: true).ConfigureAwait(false);
        return closed ? new NextCommand(null, null, true) : next;
    }

    /// <summary>
    /// Adds what the audit log keeps of a line that is not a command, while its octets are still
    /// in the buffer; a parsed command is described later, from the command itself.
    /// </summary>
    private static NextCommand WithAuditText(SmtpSession session, LineStatus status, in ReadOnlySequence<byte> line, NextCommand next)
    {
        if (next.Command is not null)
        {
            return next;
        }

        var tooLong = status == LineStatus.TooLong;
        var octets = tooLong ? session._longLineStart ?? [] : line.ToArray();
        session._longLineStart = null;
        var (verb, arguments) = AuditText.Unparsed(octets, tooLong);
        return next with { AuditVerb = verb, AuditArguments = arguments };
    }

    /// <summary>Forgets a partly read line, as after STARTTLS or XCAESAR throws away what was buffered.</summary>
    private void ResetLineReader()
    {
        _lineReader.Reset();
        _needMoreInput = false;
        _longLineStart = null;
    }

    /// <summary>
    /// RFC 4954 4: a client's response in a SASL exchange, one line of up to 12,288 octets; null
    /// when the line is not one (too long, bare LF) or the client closed the connection.
    /// </summary>
    internal async ValueTask<string?> ReadSaslResponseAsync()
    {
        var (text, _) = await ReadLineAsync<string?>(MaxSaslLine, static (SmtpSession _, LineStatus status, in ReadOnlySequence<byte> line) =>
            status == LineStatus.Line ? System.Text.EncodingExtensions.GetString(System.Text.Encoding.ASCII, line) : null).ConfigureAwait(false);
        return text;
    }

    private const int MaxSaslLine = 12_288;

    private delegate T LineHandler<T>(SmtpSession session, LineStatus status, in ReadOnlySequence<byte> line);

    /// <summary>
    /// The one line-reading loop: flush what is queued before waiting (and past 16 KB), read with
    /// the timeout that applies, and hand each complete line (or the news that it was too long or
    /// ended in a bare LF) to <paramref name="handler"/> while its bytes are still in the buffer.
    /// </summary>
    /// <param name="maxLength">The longest line taken.</param>
    /// <param name="handler">What to make of the line.</param>
    /// <param name="keepLongLineStart">Keep the first octets of a line too long (a command line, for the audit log; never a SASL response).</param>
    private async ValueTask<(T Value, bool Closed)> ReadLineAsync<T>(int maxLength, LineHandler<T> handler, bool keepLongLineStart = false)
    {
        while (true)
        {
            if (Output.CanGetUnflushedBytes && Output.UnflushedBytes > MaxUnflushedReplies)
            {
                await FlushAsync().ConfigureAwait(false);
            }

            ReadResult result;
            if (_needMoreInput || !Input.TryRead(out result))
            {
                await FlushAsync().ConfigureAwait(false);

                // Between BDAT chunks a shutdown waits, as it does inside DATA.
                result = await ReadAsync(State == SmtpState.Chunking ? _dataCts.Source : _commandCts, Options.CommandTimeout).ConfigureAwait(false);
            }

            _needMoreInput = false;
            var buffer = result.Buffer;
            var status = _lineReader.TryRead(ref buffer, maxLength, out var line);

            // The reader throws a long line away as it goes; its start is at the front of the
            // buffer only in the read where the discarding begins.
            if (keepLongLineStart && status is LineStatus.Discarding or LineStatus.TooLong && _longLineStart is null)
            {
                _longLineStart = result.Buffer.Slice(0, Math.Min(LongLineStartSize, result.Buffer.Length)).ToArray();
            }

            if (status is LineStatus.Line or LineStatus.BareLineFeed or LineStatus.TooLong)
            {
                var value = handler(this, status, line);
                Input.AdvanceTo(buffer.Start);
                return (value, false);
            }

            Input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return (default!, true);
            }

            _needMoreInput = true;
        }
    }

    private static NextCommand FromParse(CommandParseResult parsed) => new(parsed.Command, parsed.Error, false, parsed.Fatal);

    /// <summary>A BDAT line that cannot be read: its chunk would run as commands, so the session ends.</summary>
    private static NextCommand FramingLost()
    {
        var result = CommandParser.BdatFramingLost();
        return new NextCommand(null, result.Error, false, Fatal: true);
    }

    private CommandParseResult Parse(in ReadOnlySequence<byte> line)
    {
        if (line.IsSingleSegment)
        {
            return _commandLines.Parse(line.FirstSpan);
        }

        var copy = ArrayPool<byte>.Shared.Rent((int)line.Length);
        try
        {
            line.CopyTo(copy);
            return _commandLines.Parse(copy.AsSpan(0, (int)line.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    /// <summary>
    /// Streams DATA content into <paramref name="sink"/> up to the terminating CRLF.CRLF, which is
    /// consumed; any bytes after it stay in the pipe as the next command.
    /// </summary>
    internal async ValueTask ReceiveDataAsync(MessageSink sink)
    {
        var unstuffer = new DotUnstuffer();
        var scratch = _scratch ??= new byte[SliceSize + 1];
        while (true)
        {
            var result = Input.TryRead(out var buffered) ? buffered : await ReadAsync(_dataCts.Source, Options.DataTimeout).ConfigureAwait(false);
            var buffer = result.Buffer;
            long offset = 0;
            var done = false;
            foreach (var segment in buffer)
            {
                for (var start = 0; start < segment.Length && !done; start += SliceSize)
                {
                    var slice = segment.Slice(start, Math.Min(SliceSize, segment.Length - start));
                    done = unstuffer.Feed(slice.Span, scratch, out var consumed, out var written);
                    offset += consumed;
                    if (written > 0)
                    {
                        await sink.WriteAsync(scratch.AsMemory(0, written), _dataCts.Token).ConfigureAwait(false);
                    }
                }

                if (done)
                {
                    break;
                }
            }

            if (done)
            {
                Input.AdvanceTo(buffer.GetPosition(offset));
                return;
            }

            Input.AdvanceTo(buffer.End);
            if (result.IsCompleted)
            {
                throw new ConnectionClosedException("The connection closed before the end of DATA.");
            }
        }
    }

    /// <summary>Streams exactly <paramref name="size"/> octets of a BDAT chunk into <paramref name="sink"/> (RFC 3030 section 2).</summary>
    internal async ValueTask ReceiveChunkAsync(long size, MessageSink? sink)
    {
        var remaining = size;
        while (remaining > 0)
        {
            var result = Input.TryRead(out var buffered) ? buffered : await ReadAsync(_dataCts.Source, Options.DataTimeout).ConfigureAwait(false);
            var buffer = result.Buffer;
            var take = buffer.Slice(0, Math.Min(remaining, buffer.Length));
            if (sink is not null)
            {
                foreach (var segment in take)
                {
                    await sink.WriteAsync(segment, _dataCts.Token).ConfigureAwait(false);
                }
            }

            remaining -= take.Length;
            Input.AdvanceTo(take.End);
            if (remaining > 0 && result.IsCompleted)
            {
                throw new ConnectionClosedException("The connection closed inside a BDAT chunk.");
            }
        }
    }

    /// <summary>Reads and throws away a chunk that will not be stored.</summary>
    internal ValueTask DiscardAsync(long size) => ReceiveChunkAsync(size, null);

    private async ValueTask<ReadResult> ReadAsync(CancellationTokenSource cts, TimeSpan timeout)
    {
        cts.CancelAfter(timeout);
        try
        {
            return await Input.ReadAsync(cts.Token).ConfigureAwait(false);
        }
        finally
        {
            cts.TryReset();
        }
    }
}
