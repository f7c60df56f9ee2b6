using Mailroom.Core.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Mailroom.Storage.Postgres;

/// <summary>Delivery and reading back (<see cref="IMessageStore"/>).</summary>
public sealed partial class PostgresMailStore
{
    public Task<IMessageWriter> BeginMessageAsync(MessageEnvelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(envelope.Sender);
        ArgumentException.ThrowIfNullOrEmpty(envelope.MessageId);
        if (envelope.Recipients.Count == 0)
        {
            throw new ArgumentException("A message needs at least one recipient.", nameof(envelope));
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (!TryClaim(envelope.MessageId))
        {
            throw new DirectoryConflictException($"message {envelope.MessageId} is already being delivered");
        }

        // An id stored already is refused by the primary key at the commit (DirectoryConflictException),
        // without a round trip here for every message: ids are random (MessageIds).
        return Task.FromResult<IMessageWriter>(new PostgresMessageWriter(this, envelope));
    }

    public Task<IReadOnlyList<MessageSummary>> ListMessagesAsync(string? mailboxAddress, CancellationToken cancellationToken)
    {
        var filter = mailboxAddress is null ? null : Normalize(mailboxAddress);
        return QueryAsync(
            "listing messages",
            $"""
            SELECT m.id, mb.address, m.received_utc, m.sender, m.subject, m.size
            FROM deliveries d
            JOIN messages m ON m.id = d.message_id
            JOIN mailboxes mb ON mb.id = d.mailbox_id
            WHERE d.trashed_utc IS NULL {(filter is null ? string.Empty : "AND mb.address = @mailbox")}
            ORDER BY m.received_utc, m.id COLLATE "C", d.id;
            """,
            p =>
            {
                if (filter is not null)
                {
                    p.AddWithValue("mailbox", filter);
                }
            },
            static r => new MessageSummary(
                r.GetString(0),
                r.GetString(1),
                r.GetFieldValue<DateTimeOffset>(2),
                r.GetString(3),
                r.IsDBNull(4) ? null : r.GetString(4),
                r.GetInt64(5)),
            cancellationToken);
    }

    /// <summary>
    /// The message as stored. Its first chunk comes with the lookup (a message under
    /// <see cref="ChunkSize"/> is one query); the rest are read as the stream is read, so a large
    /// message is never held whole in memory.
    /// </summary>
    public async Task<Stream?> OpenMessageAsync(string messageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        var rows = await QueryAsync(
            "opening a message",
            """
            SELECT m.size, c.data FROM messages m
            LEFT JOIN message_chunks c ON c.message_id = m.id AND c.seq = 0
            WHERE m.id = @id;
            """,
            p => p.AddWithValue("id", messageId),
            static r => (Size: r.GetInt64(0), First: r.IsDBNull(1) ? null : r.GetFieldValue<byte[]>(1)),
            cancellationToken).ConfigureAwait(false);
        if (rows.Count == 0)
        {
            return null;
        }

        var (size, first) = rows[0];
        return new ChunkedBodyStream(this, messageId, size, first);
    }

    /// <summary>One chunk of a stored body, or null when it is missing.</summary>
    internal async Task<byte[]?> ReadChunkAsync(string messageId, int seq, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(
            "reading a message",
            "SELECT data FROM message_chunks WHERE message_id = @id AND seq = @seq;",
            p =>
            {
                p.AddWithValue("id", messageId);
                p.AddWithValue("seq", seq);
            },
            static r => r.GetFieldValue<byte[]>(0),
            cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <summary>
    /// The commit point of a delivery: the messages row, the body's chunks and one deliveries row
    /// per recipient in one transaction. When it returns, PostgreSQL has the commit durably
    /// (synchronous_commit, checked at open), on every node's view at once.
    /// </summary>
    internal Task RecordMessageAsync(MessageEnvelope envelope, long size, string? subject, Func<int, ReadOnlyMemory<byte>, Task<ReadOnlyMemory<byte>>> nextChunk, CancellationToken cancellationToken)
    {
        return InTransactionAsync("recording a message", async (connection, transaction) =>
        {
            var batch = new NpgsqlBatch(connection, transaction);
            await using (batch.ConfigureAwait(false))
            {
                var message = new NpgsqlBatchCommand(
                    "INSERT INTO messages (id, sender, received_utc, size, subject) VALUES (@id, @sender, @received, @size, @subject);");
                message.Parameters.AddWithValue("id", envelope.MessageId);
                message.Parameters.AddWithValue("sender", envelope.Sender);
                message.Parameters.AddWithValue("received", envelope.ReceivedUtc.ToUniversalTime());
                message.Parameters.AddWithValue("size", size);
                message.Parameters.Add(new NpgsqlParameter("subject", NpgsqlDbType.Text) { Value = (object?)subject ?? DBNull.Value });
                batch.BatchCommands.Add(message);

                var deliveries = new NpgsqlBatchCommand(
                    """
                    INSERT INTO deliveries (message_id, mailbox_id, recipient)
                    SELECT @id, t.mailbox, t.recipient FROM unnest(@mailboxes, @recipients) AS t (mailbox, recipient)
                    ON CONFLICT (message_id, mailbox_id) DO NOTHING;
                    """);
                deliveries.Parameters.AddWithValue("id", envelope.MessageId);
                deliveries.Parameters.Add(new NpgsqlParameter("mailboxes", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = envelope.Recipients.Select(r => r.Mailbox.Id).ToArray() });
                deliveries.Parameters.Add(new NpgsqlParameter("recipients", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = envelope.Recipients.Select(r => Normalize(r.Address)).ToArray() });

                // The first chunk goes in the same round trip as the rows; a larger body's other
                // chunks follow one statement each, in the same transaction.
                var seq = 0;
                var chunk = await nextChunk(seq, default).ConfigureAwait(false);
                if (!chunk.IsEmpty)
                {
                    batch.BatchCommands.Add(ChunkCommand(envelope.MessageId, seq, chunk));
                }

                batch.BatchCommands.Add(deliveries);
                try
                {
                    await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException exception) when (PostgresFaults.IsUniqueViolation(exception) && exception.TableName == "messages")
                {
                    throw new DirectoryConflictException($"message {envelope.MessageId} already exists", exception);
                }

                while (!chunk.IsEmpty)
                {
                    chunk = await nextChunk(++seq, chunk).ConfigureAwait(false);
                    if (!chunk.IsEmpty)
                    {
                        var more = new NpgsqlBatch(connection, transaction);
                        await using (more.ConfigureAwait(false))
                        {
                            more.BatchCommands.Add(ChunkCommand(envelope.MessageId, seq, chunk));
                            await more.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                        }
                    }
                }
            }

            return true;
        }, cancellationToken);
    }

    private static NpgsqlBatchCommand ChunkCommand(string messageId, int seq, ReadOnlyMemory<byte> data)
    {
        var command = new NpgsqlBatchCommand("INSERT INTO message_chunks (message_id, seq, data) VALUES (@id, @seq, @data);");
        command.Parameters.AddWithValue("id", messageId);
        command.Parameters.AddWithValue("seq", seq);
        command.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>>("data", NpgsqlDbType.Bytea) { TypedValue = data });
        return command;
    }
}
