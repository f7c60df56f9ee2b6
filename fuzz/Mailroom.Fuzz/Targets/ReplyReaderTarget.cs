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
        var pipe = PipeReader.Create(new PiecewiseStream(data, fuzz.Chunks(data.Length)), new StreamPipeReaderOptions(bufferSize: 64, minimumReadSize: 1));
        var reader = Constructor.Invoke([pipe, null, SmtpClientOptions.DefaultMaxReplySize]);
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

        if (data.Length <= ReplyParser.MaxReplyLine * 64)
        {
            Invariant.Check(replies.SequenceEqual(expected.SkipLast(1)), $"the client read [{string.Join(", ", replies)}], the parser [{string.Join(", ", expected)}]");
        }
    }
}
