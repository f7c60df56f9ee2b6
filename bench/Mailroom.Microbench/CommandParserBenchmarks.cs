using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Mailroom.Protocol.Commands;

namespace Mailroom.Microbench;

/// <summary>
/// One command line as the session reads it: CRLF-terminated bytes in a single-segment buffer,
/// found by <see cref="LineReader"/> and parsed from the line's span (SmtpSession.Input.cs).
/// Allocated bytes per operation is the steady-state cost of one command.
/// </summary>
[MemoryDiagnoser]
public class CommandParserBenchmarks
{
    /// <summary>The command mix of a session, as clients send it.</summary>
    internal static readonly IReadOnlyDictionary<string, string> Lines = new Dictionary<string, string>
    {
        ["EHLO"] = "EHLO client.example.org",
        ["MAIL"] = "MAIL FROM:<alice@example.org> SIZE=1024 BODY=8BITMIME",
        ["RCPT"] = "RCPT TO:<bob@example.net>",
        ["DATA"] = "DATA",
        ["RSET"] = "RSET",
        ["NOOP"] = "NOOP",
        ["QUIT"] = "QUIT",
        ["READ"] = "READ INBOX",
        ["NEXT"] = "NEXT",
    };

    private ReadOnlySequence<byte> _input;

    [ParamsSource(nameof(Commands))]
    public string Command { get; set; } = "NOOP";

    public static IEnumerable<string> Commands => Lines.Keys;

    [GlobalSetup]
    public void Setup() => _input = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(Lines[Command] + "\r\n"));

    [Benchmark]
    public SmtpCommand? Parse() => ParseOne(_input);

    internal static SmtpCommand? ParseOne(ReadOnlySequence<byte> buffer)
    {
        var reader = default(LineReader);
        _ = reader.TryRead(ref buffer, 512, out var line);
        return CommandParser.Parse(line.FirstSpan).Command;
    }
}

/// <summary>
/// The same lines through a session's <see cref="CommandLineCache"/>, once it has seen each of
/// them: the steady state of a client that sends the same transaction again and again.
/// </summary>
[MemoryDiagnoser]
public class CachedCommandParserBenchmarks
{
    private ReadOnlySequence<byte> _input;
    private CommandLineCache _cache;

    [ParamsSource(nameof(Commands))]
    public string Command { get; set; } = "NOOP";

    public static IEnumerable<string> Commands => CommandParserBenchmarks.Lines.Keys;

    [GlobalSetup]
    public void Setup()
    {
        _input = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(CommandParserBenchmarks.Lines[Command] + "\r\n"));
        _ = ParseCached();
    }

    [Benchmark]
    public SmtpCommand? ParseCached()
    {
        var buffer = _input;
        var reader = default(LineReader);
        _ = reader.TryRead(ref buffer, 512, out var line);
        return _cache.Parse(line.FirstSpan).Command;
    }
}

/// <summary>
/// A pipelined group in one read: every line of <see cref="CommandParserBenchmarks.Lines"/>, found
/// and parsed in turn from one buffer, as the session does between two reads of the pipe.
/// </summary>
[MemoryDiagnoser]
public class CommandMixBenchmarks
{
    private ReadOnlySequence<byte> _input;
    private CommandLineCache _cache;

    [GlobalSetup]
    public void Setup()
    {
        _input = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(string.Concat(CommandParserBenchmarks.Lines.Values.Select(l => l + "\r\n"))));
        _ = ParseMixThroughCache();
    }

    [Benchmark]
    public int ParseMix()
    {
        var buffer = _input;
        var reader = default(LineReader);
        var parsed = 0;
        while (reader.TryRead(ref buffer, 512, out var line) == LineStatus.Line)
        {
            parsed += CommandParser.Parse(line.FirstSpan).Command is null ? 0 : 1;
        }

        return parsed;
    }

    /// <summary>The same group through a session's <see cref="CommandLineCache"/> that has seen it before.</summary>
    [Benchmark]
    public int ParseMixThroughCache()
    {
        var buffer = _input;
        var reader = default(LineReader);
        var parsed = 0;
        while (reader.TryRead(ref buffer, 512, out var line) == LineStatus.Line)
        {
            parsed += _cache.Parse(line.FirstSpan).Command is null ? 0 : 1;
        }

        return parsed;
    }
}
