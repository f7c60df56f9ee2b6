using System.Buffers;
using System.Text;
using Mailroom.Protocol.Commands;

namespace Mailroom.Fuzz.Targets;

/// <summary>
/// Command lines as the server meets them: framed by <see cref="LineReader"/> from bytes that
/// arrive in afl's chosen pieces (the same lines as when they arrive whole; "incomplete" consumes
/// nothing), then parsed by <see cref="CommandParser"/> and by a <see cref="CommandLineCache"/>,
/// which must agree with it on every line. The parser's typed error is its reply, never an exception.
/// </summary>
internal static class CommandTarget
{
    /// <summary>RFC 5321 4.5.3.1.4: a command line is at most 512 octets including CRLF.</summary>
    private const int MaxLine = 512;

    public static void Run(byte[] input)
    {
        var fuzz = new FuzzInput(input);
        var data = fuzz.DataArray;
        var whole = FrameAll(data, [data.Length]);
        var pieces = FrameAll(data, fuzz.Chunks(data.Length));
        Invariant.Check(whole.Select(f => f.ToString()).SequenceEqual(pieces.Select(f => f.ToString())), $"LineReader frames differently when the bytes arrive in pieces: [{string.Join(", ", whole)}] vs [{string.Join(", ", pieces)}]");

        var cache = new CommandLineCache();
        foreach (var frame in whole)
        {
            if (frame.Line is { } line)
            {
                CheckLine(line, ref cache);
            }
        }
    }

    private readonly record struct Frame(LineStatus Status, byte[]? Line)
    {
        public override string ToString() => $"{Status}:{(Line is null ? "" : Convert.ToBase64String(Line))}";
    }

    private static List<Frame> FrameAll(byte[] data, IEnumerable<int> chunks)
    {
        var frames = new List<Frame>();
        var reader = new LineReader();
        var consumed = 0;
        var arrived = 0;
        foreach (var size in chunks)
        {
            arrived += size;
            var buffer = new ReadOnlySequence<byte>(data, consumed, arrived - consumed);
            while (true)
            {
                var before = buffer.Length;
                var status = reader.TryRead(ref buffer, MaxLine, out var line);
                consumed += (int)(before - buffer.Length);
                switch (status)
                {
                    case LineStatus.Incomplete:
                        Invariant.Check(buffer.Length == before, "Incomplete consumed bytes");
                        Invariant.Check(before < MaxLine, "Incomplete with a full line's worth of bytes and no LF");
                        break;
                    case LineStatus.Discarding:
                        Invariant.Check(buffer.IsEmpty, "Discarding left bytes behind");
                        break;
                    case LineStatus.Line or LineStatus.BareLineFeed:
                        var bytes = line.ToArray();
                        Invariant.Check(bytes.Length < MaxLine && Array.IndexOf(bytes, (byte)'\n') < 0, "a line holds an LF or is over the limit");
                        Invariant.Check(data[consumed - 1] == (byte)'\n', "a line did not end at an LF");
                        Invariant.Check((status == LineStatus.Line) == (consumed >= 2 + bytes.Length && data[consumed - 2] == (byte)'\r'), "Line and BareLineFeed disagree with the bytes");
                        frames.Add(new Frame(status, bytes));
                        continue;
                    case LineStatus.TooLong:
                        Invariant.Check(data[consumed - 1] == (byte)'\n', "a long line was not skipped to its LF");
                        frames.Add(new Frame(status, null));
                        continue;
                }

                break;
            }
        }

        Invariant.Check(consumed <= data.Length, "consumed more than arrived");
        return frames;
    }

    private static void CheckLine(byte[] line, ref CommandLineCache cache)
    {
        var parsed = CommandParser.Parse(line);
        Invariant.Check((parsed.Command is null) != (parsed.Error is null), "a result is neither a command nor an error, or both");
        Invariant.Check(!parsed.Fatal || parsed.Error is not null, "fatal without an error");
        Invariant.Check(parsed.Error is null || parsed.Error.Code >= 400, $"an error reply {parsed.Error?.Code} is not 4xx or 5xx");
        Invariant.Check(CommandParser.IsBdatLine(line) == CommandParser.IsBdatLine(new ReadOnlySequence<byte>(line)), "IsBdatLine differs between span and sequence");
        if (CommandParser.IsBdatLine(line))
        {
            // RFC 3030: a chunk follows a BDAT line whatever the reply, so an error in one loses the framing.
            Invariant.Check(parsed.Command is BdatCommand { ChunkSize: >= 0 } || parsed.Fatal, "a BDAT line that did not parse is not fatal");
        }
        else
        {
            Invariant.Check(parsed.Command is not BdatCommand, "a BDAT command from a line that is not one");
        }

        var expected = Describe(parsed);
        Invariant.Check(Describe(CommandParser.Parse(line)) == expected, "the parser gave another result for the same line");
        var cached = cache.Parse(line);
        Invariant.Check(Describe(cached) == expected, $"the cache disagrees with the parser: {Describe(cached)} vs {expected}");
        Invariant.Check(Describe(cache.Parse(line)) == expected, "the cache disagrees with the parser on a repeated line");

        // MAIL and RCPT written back from what was kept parse to the same command.
        var again = parsed.Command switch
        {
            MailCommand m => "MAIL FROM:" + m.RawPath + Parameters(m.Parameters),
            RcptCommand r => "RCPT TO:" + r.RawPath + Parameters(r.Parameters),
            _ => null,
        };
        if (again is not null)
        {
            var reparsed = Describe(CommandParser.Parse(Encoding.UTF8.GetBytes(again)));
            Invariant.Check(reparsed == expected, $"'{again}' written back parses as {reparsed}, not {expected}");
        }
    }

    internal static string Parameters(IReadOnlyList<EsmtpParameter> parameters) =>
        string.Concat(parameters.Select(p => p.Value is null ? " " + p.Keyword : $" {p.Keyword}={p.Value}"));

    private static string Describe(CommandParseResult result) => result.Command switch
    {
        null => $"error fatal={result.Fatal} {result.Error}",
        MailCommand m => $"MAIL {m.Sender?.LocalPart}|{m.Sender?.Domain}|{m.RawPath}|{Parameters(m.Parameters)}",
        RcptCommand r => $"RCPT {r.Recipient.LocalPart}|{r.Recipient.Domain}|{r.RawPath}|{Parameters(r.Parameters)}",
        AuthCommand a => $"AUTH {a.Mechanism}|{a.InitialResponse}",
        LognCommand l => $"LOGN {l.User}|{l.Password}",
        var other => other.ToString(),
    };
}
