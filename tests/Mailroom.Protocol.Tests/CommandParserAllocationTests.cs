using System.Buffers;
using System.Text;
using Mailroom.Protocol.Commands;

namespace Mailroom.Protocol.Tests;

/// <summary>
/// The parser's steady state: a command without arguments allocates nothing, neither for its verb
/// nor for the command (bench/Mailroom.Microbench shows what the other commands allocate).
/// </summary>
public sealed class CommandParserAllocationTests
{
    [Theory]
    [InlineData("NOOP")]
    [InlineData("RSET")]
    [InlineData("DATA")]
    [InlineData("QUIT")]
    [InlineData("noop")]
    [InlineData("Rset")]
    [InlineData("NOOP ignored text")]
    [InlineData("STARTTLS")]
    [InlineData("NEXT")]
    [InlineData("LIST")]
    public void Parsing_a_command_without_arguments_allocates_nothing(string text)
    {
        var line = Encoding.ASCII.GetBytes(text);

        Assert.Equal(0, AllocatedByParsing(line));
    }

    [Theory]
    [InlineData("NOOP")]
    [InlineData("DATA")]
    public void Reading_and_parsing_a_line_as_the_session_does_allocates_nothing(string text)
    {
        var input = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text + "\r\n"));

        var allocated = Allocated(() =>
        {
            var buffer = input;
            var reader = default(LineReader);
            _ = reader.TryRead(ref buffer, 512, out var line);
            return CommandParser.Parse(line.FirstSpan).Command;
        });

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void A_command_without_arguments_is_still_equal_by_value()
    {
        var parsed = CommandParser.Parse("RSET"u8).Command;

        Assert.Equal(new SimpleCommand(SmtpVerb.Rset), parsed);
        Assert.Same(parsed, CommandParser.Parse("rset"u8).Command);
    }

    /// <summary>
    /// A session's steady state through its <see cref="CommandLineCache"/>: the same transaction
    /// again and again allocates nothing once each line has been seen.
    /// </summary>
    [Fact]
    public void A_session_s_repeated_commands_through_the_cache_allocate_nothing()
    {
        byte[][] lines =
        [
            .. new[]
            {
                "EHLO client.example.org", "MAIL FROM:<alice@example.org> SIZE=1024 BODY=8BITMIME", "RCPT TO:<bob@example.net>",
                "RCPT TO:<carol@example.net>", "DATA", "NOOP", "RSET", "BDAT 4096", "READ INBOX",
            }.Select(Encoding.ASCII.GetBytes),
        ];
        var cache = default(CommandLineCache);
        for (var i = 0; i < 100; i++)
        {
            foreach (var line in lines)
            {
                Assert.NotNull(cache.Parse(line).Command);
            }
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            foreach (var line in lines)
            {
                _ = cache.Parse(line);
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static long AllocatedByParsing(byte[] line) => Allocated(() => CommandParser.Parse(line).Command);

    /// <summary>Bytes allocated on this thread by 1,000 runs of <paramref name="parse"/> once warmed up.</summary>
    private static long Allocated(Func<SmtpCommand?> parse)
    {
        for (var i = 0; i < 100; i++)
        {
            Assert.NotNull(parse());
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            _ = parse();
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
