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

    private byte[]? _scratch;

    private readonly record struct NextCommand(SmtpCommand? Command, SmtpReply? Error, bool Closed, bool Fatal = false);

    /// <summary>
    /// Reads the next command line. Replies still queued are flushed before waiting for input, and
    /// only then: a pipelined group is answered in one write.
    /// </summary>
    private async ValueTask<NextCommand> ReadCommandLineAsync()
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
                result = await ReadAsync(State == SmtpState.Chunking ? _dataCts : _commandCts, Options.CommandTimeout).ConfigureAwait(false);
            }

            _needMoreInput = false;
            var buffer = result.Buffer;
            var status = _lineReader.TryRead(ref buffer, Options.MaxCommandLineLength, out var line);
            switch (status)
            {
                case LineStatus.Line:
                    var parsed = Parse(line);
                    Input.AdvanceTo(buffer.Start);
                    return new NextCommand(parsed.Command, parsed.Error, false, parsed.Fatal);

                // RFC 5321 2.3.8: a line ends with CRLF, nothing else. Refusing the bare LF keeps
                // the session's idea of a line the same as every other server's on the path.
                case LineStatus.BareLineFeed:
                    var bdat = CommandParser.IsBdatLine(line);
                    Input.AdvanceTo(buffer.Start);
                    return bdat ? FramingLost() : new NextCommand(null, ReplyCatalogue.BareLineEnding, false);
                case LineStatus.TooLong:
                    Input.AdvanceTo(buffer.Start);
                    return _lineReader.DiscardedLineWasBdat
                        ? FramingLost()
                        : new NextCommand(null, ReplyCatalogue.LineTooLong.Format(Options.MaxCommandLineLength), false);
                default:
                    Input.AdvanceTo(buffer.Start, buffer.End);
                    if (result.IsCompleted)
                    {
                        return new NextCommand(null, null, true);
                    }

                    _needMoreInput = true;
                    break;
            }
        }
    }

    /// <summary>A BDAT line that cannot be read: its chunk would run as commands, so the session ends.</summary>
    private static NextCommand FramingLost()
    {
        var result = CommandParser.BdatFramingLost();
        return new NextCommand(null, result.Error, false, Fatal: true);
    }

    private static CommandParseResult Parse(in ReadOnlySequence<byte> line)
    {
        if (line.IsSingleSegment)
        {
            return CommandParser.Parse(line.FirstSpan);
        }

        var copy = ArrayPool<byte>.Shared.Rent((int)line.Length);
        try
        {
            line.CopyTo(copy);
            return CommandParser.Parse(copy.AsSpan(0, (int)line.Length));
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
            var result = Input.TryRead(out var buffered) ? buffered : await ReadAsync(_dataCts, Options.DataTimeout).ConfigureAwait(false);
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
            var result = Input.TryRead(out var buffered) ? buffered : await ReadAsync(_dataCts, Options.DataTimeout).ConfigureAwait(false);
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
