using System.Buffers;
using Mailroom.Protocol.Replies;

namespace Mailroom.Fuzz.Targets;

/// <summary>
/// <see cref="ReplyParser"/> (RFC 5321 4.2) over bytes that arrive in afl's pieces, as
/// multi-segment sequences: its one typed error is <see cref="FormatException"/>; "incomplete"
/// consumes nothing; a reply has a code from 200 to 599 and a line; it formats back to bytes that
/// parse as the same reply; and the replies are the same however the bytes arrive.
/// </summary>
internal static class ReplyTarget
{
    /// <summary>Past this an unterminated tail is refused as too long, which depends on how much has arrived.</summary>
    private const int SameHoweverArrived = ReplyParser.MaxReplyLine * 64;

    public static void Run(byte[] input)
    {
        var fuzz = new FuzzInput(input);
        var data = fuzz.DataArray;
        var enhanced = (fuzz.Control & 4) != 0;
        var pieces = Outcomes(data, fuzz.Chunks(data.Length), enhanced);
        if (data.Length <= SameHoweverArrived)
        {
            var whole = Outcomes(data, [data.Length], enhanced);
            Invariant.Check(whole.SequenceEqual(pieces), $"replies differ when the bytes arrive in pieces:\n{string.Join("\n", whole)}\nvs\n{string.Join("\n", pieces)}");
        }
    }

    /// <summary>What a reader sees: each reply, then how it stopped (refused, or waiting for more).</summary>
    internal static List<string> Outcomes(byte[] data, IEnumerable<int> chunks, bool enhanced)
    {
        var outcomes = new List<string>();
        var consumed = 0;
        var arrived = 0;
        var chunkList = chunks.ToList();
        foreach (var size in chunkList)
        {
            arrived += size;
            while (true)
            {
                // The unconsumed bytes as the pieces they arrived in.
                var buffer = Segment.Sequence(data.AsMemory(consumed, arrived - consumed), Pieces(chunkList, consumed, arrived));
                var before = buffer.Length;
                bool complete;
                SmtpReply? reply;
                try
                {
                    complete = ReplyParser.TryParse(ref buffer, enhanced, out reply);
                }
                catch (FormatException)
                {
                    outcomes.Add("refused");
                    return outcomes;
                }

                if (!complete)
                {
                    Invariant.Check(buffer.Length == before && reply is null, "an incomplete reply consumed bytes or gave a reply");
                    break;
                }

                var used = (int)(before - buffer.Length);
                Invariant.Check(used > 0 && data[consumed + used - 1] == (byte)'\n', "a reply did not end at an LF");
                Invariant.Check(reply is { Code: >= 200 and <= 599, Lines.Count: > 0 }, "a reply with a code outside 2xx-5xx or no line");
                CheckRoundTrip(reply!, enhanced);
                consumed += used;
                outcomes.Add(Describe(reply!));
            }
        }

        outcomes.Add("incomplete");
        return outcomes;
    }

    private static IEnumerable<int> Pieces(List<int> chunks, int from, int to)
    {
        var at = 0;
        foreach (var size in chunks)
        {
            var start = Math.Max(at, from);
            var end = Math.Min(at + size, to);
            if (end > start)
            {
                yield return end - start;
            }

            at += size;
        }
    }

    private static void CheckRoundTrip(SmtpReply reply, bool enhanced)
    {
        var writer = new ArrayBufferWriter<byte>();
        ReplyFormatter.Write(reply, writer);
        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);
        Invariant.Check(ReplyParser.TryParse(ref buffer, enhanced, out var again) && buffer.IsEmpty, $"'{reply}' formatted does not parse back whole");
        Invariant.Check(Describe(again!) == Describe(reply), $"'{reply}' formatted parses back as '{again}'");
    }

    internal static string Describe(SmtpReply reply) => $"{reply.Code} {reply.Enhanced} [{string.Join("|", reply.Lines)}]";
}
