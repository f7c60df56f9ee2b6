using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>
/// BDAT (RFC 3030 section 2): the message in chunks of declared size, with no dot-stuffing and
/// no terminator; the chunk marked LAST ends it. Every chunk is read in full whatever the answer,
/// or its octets would be taken for commands.
/// </summary>
internal static class BdatHandler
{
    public static async Task HandleAsync(SmtpSession session, BdatCommand command)
    {
        var transaction = session.Transaction!;
        if (transaction.Failure is null && transaction.Sink is null)
        {
            transaction.Sink = await MessageReception.BeginAsync(session).ConfigureAwait(false);
            if (transaction.Sink is null)
            {
                // The store failed and said so; the rest of the transfer is read and refused alike.
                transaction.Failure = ReplyCatalogue.StorageFailure;
                await session.DiscardAsync(command.ChunkSize).ConfigureAwait(false);
                await EndChunkAsync(session, command).ConfigureAwait(false);
                return;
            }
        }

        if (transaction.Failure is not null)
        {
            await session.DiscardAsync(command.ChunkSize).ConfigureAwait(false);
            session.Reply(transaction.Failure);
            await EndChunkAsync(session, command).ConfigureAwait(false);
            return;
        }

        var sink = transaction.Sink!;
        await session.ReceiveChunkAsync(command.ChunkSize, sink).ConfigureAwait(false);
        if (command.Last)
        {
            await MessageReception.CompleteAsync(session, sink).ConfigureAwait(false);
            await session.ResetTransactionAsync().ConfigureAwait(false);
            return;
        }

        // RFC 3030 section 4.2: a chunk that takes the message over the limit may be refused at once.
        if (sink.Oversize)
        {
            transaction.Failure = ReplyCatalogue.MessageTooBig.Format(session.Options.MaxMessageSize);
            session.Reply(transaction.Failure);
        }
        else
        {
            session.Reply(ReplyCatalogue.ChunkAccepted.Format(command.ChunkSize));
        }

        session.State = SmtpState.Chunking;
    }

    private static async Task EndChunkAsync(SmtpSession session, BdatCommand command)
    {
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
