using System.Buffers;
using System.IO.Pipelines;
using System.Reflection;
using Mailroom.Client;
using Mailroom.Protocol.Replies;
using Mailroom.Testing.Streams;

namespace Mailroom.Fuzz.Targets;

/// <summary>
/// The client's ReplyReader over a pipe that the server's bytes trickle into in afl's pieces:
/// it gives the replies <see cref="ReplyParser"/> finds in the whole input and then ends in an
/// <see cref="SmtpProtocolException"/> (the stream ends), its one typed error; anything else is a crash.
/// </summary>
internal static class ReplyReaderTarget
{
    // ReplyReader is internal to Mailroom.Client; reaching it by reflection keeps the product's
    // InternalsVisibleTo list to its test projects.
    private static readonly Type ReaderType = typeof(SmtpProtocolException).Assembly.GetType("Mailroom.Client.ReplyReader", throwOnError: true)!;
    private static readonly ConstructorInfo Constructor = ReaderType.GetConstructor([typeof(PipeReader), typeof(Action<bool, string>), typeof(long)])
        ?? throw new InvalidOperationException("ReplyReader's constructor is not (PipeReader, Action<bool, string>?, long).");
    private static readonly MethodInfo ReadAsync = ReaderType.GetMethod("ReadAsync", [typeof(CancellationToken)])!;

    public static void Run(byte[] input)
    {
        var fuzz = new FuzzInput(input);
        var data = fuzz.DataArray;
        var expected = ReplyTarget.Outcomes(data, [data.Length], enhanced: true);

        // Half the inputs meet a reply limit of 16 to 512 octets, so the limit is fuzzed too.
        long limit = (fuzz.Control & 0x80) == 0 ? SmtpClientOptions.DefaultMaxReplySize : 16 + (((fuzz.Control >> 2) & 0x1F) * 16);
        var pipe = PipeReader.Create(new PiecewiseStream(data, fuzz.Chunks(data.Length)), new StreamPipeReaderOptions(bufferSize: 64, minimumReadSize: 1));
        var reader = Constructor.Invoke([pipe, null, limit]);
        var replies = new List<string>();
        while (true)
        {
            Invariant.Check(replies.Count <= data.Length, "the reader never stopped");
            try
            {
                var pending = (ValueTask<SmtpReply>)ReadAsync.Invoke(reader, BindingFlags.DoNotWrapExceptions, null, [CancellationToken.None], null)!;
                var reply = pending.AsTask().GetAwaiter().GetResult();
                Invariant.Check(reply.Code is >= 200 and <= 599, $"reply code {reply.Code}");
                replies.Add(ReplyTarget.Describe(reply));
            }
            catch (SmtpProtocolException)
            {
                break;
            }
        }

        if (data.Length > ReplyParser.MaxReplyLine * 64)
        {
            return;
        }

        // The client reads what the parser finds in the whole input, in order; it may stop
        // early only at a reply whose continuation lines alone are over the limit (it may also
        // read such a reply, when its final line came in the same read).
        var complete = expected.SkipLast(1).ToList();
        Invariant.Check(replies.Count <= complete.Count && replies.SequenceEqual(complete.Take(replies.Count)), $"the client read [{string.Join(", ", replies)}], the parser [{string.Join(", ", expected)}]");
        if (replies.Count < complete.Count)
        {
            var continuation = ContinuationOctets(data)[replies.Count];
            Invariant.Check(continuation > limit, $"the client stopped at reply {replies.Count}, whose {continuation} octets of continuation lines are within the limit of {limit}");
        }
    }

    /// <summary>For each reply the parser finds in the whole input, how many octets its lines before the final one take.</summary>
    private static List<int> ContinuationOctets(byte[] data)
    {
        var octets = new List<int>();
        var rest = new ReadOnlySequence<byte>(data);
        while (true)
        {
            var start = data.Length - (int)rest.Length;
            try
            {
                if (!ReplyParser.TryParse(ref rest, enhanced: true, out _))
                {
                    return octets;
                }
            }
            catch (FormatException)
            {
                return octets;
            }

            // The final line starts after the last LF before the reply's own closing LF.
            var end = data.Length - (int)rest.Length;
            var lastBreak = end - 1 > start ? Array.LastIndexOf(data, (byte)'\n', end - 2, end - 1 - start) : -1;
            octets.Add(lastBreak < 0 ? 0 : lastBreak + 1 - start);
        }
    }
}
