using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>
/// BDAT (RFC 3030 section 2): the message in chunks of declared size, with no dot-stuffing and
/// no terminator; the chunk marked LAST ends it. Every chunk is read in full whatever the answer,
/// or its octets would be taken for commands. Once a chunk is refused (too big, bad content,
/// store failure), every later chunk of the transfer gets the same answer until LAST.
/// </summary>
internal static class BdatHandler
{
    public static async Task HandleAsync(SmtpSession session, BdatCommand command)
    {
        var transaction = session.Transaction!;
        if (transaction.Failure is null && transaction.Sink is null)
        {
            transaction.Failure = await MessageReception.BeginAsync(session).ConfigureAwait(false);
        }

        if (transaction.Failure is null)
        {
            var sink = transaction.Sink!;
            await session.ReceiveChunkAsync(command.ChunkSize, sink).ConfigureAwait(false);
            if (command.Last)
            {
                await MessageReception.CompleteAsync(session, sink).ConfigureAwait(false);
                await session.ResetTransactionAsync().ConfigureAwait(false);
                return;
            }

            // RFC 3030 section 4.2: a chunk may be refused as soon as the message cannot succeed.
            transaction.Failure = MessageReception.Judge(session, sink, atEnd: false);
            session.Reply(transaction.Failure ?? ReplyCatalogue.ChunkAccepted.Format(command.ChunkSize));
        }
        else
        {
            await session.DiscardAsync(command.ChunkSize).ConfigureAwait(false);
            session.Reply(transaction.Failure);
        }

        if (command.Last)
        {
            await session.ResetTransactionAsync().ConfigureAwait(false);
        }
        else
        {
            session.State = SmtpState.Chunking;
        }
    }
}
