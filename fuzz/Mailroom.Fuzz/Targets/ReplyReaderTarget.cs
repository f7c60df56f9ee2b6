using System.IO.Pipelines;
using System.Reflection;
using Mailroom.Client;
using Mailroom.Protocol.Replies;

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
        var pipe = PipeReader.Create(new ChunkedStream(data, fuzz.Chunks(data.Length)), new StreamPipeReaderOptions(bufferSize: 64, minimumReadSize: 1));
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

    /// <summary>A stream that returns its bytes in the given pieces, as a network would.</summary>
    private sealed class ChunkedStream(byte[] bytes, IEnumerable<int> chunks) : Stream
    {
        private readonly IEnumerator<int> _chunks = chunks.GetEnumerator();
        private int _position;
        private int _leftInChunk;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => bytes.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_leftInChunk == 0)
            {
                _leftInChunk = _chunks.MoveNext() ? _chunks.Current : 0;
            }

            var size = Math.Min(buffer.Length, _leftInChunk);
            bytes.AsSpan(_position, size).CopyTo(buffer);
            _position += size;
            _leftInChunk -= size;
            return size;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _chunks.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
