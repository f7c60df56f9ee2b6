using Mailroom.Core.Storage;

namespace Mailroom.Storage.Sqlite;

/// <summary>Delivery and reading back (<see cref="IMessageStore"/>).</summary>
public sealed partial class SqliteMailStore
{
    public Task<IMessageWriter> BeginMessageAsync(MessageEnvelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(envelope.Sender);
        if (!BodyFiles.IsSafeId(envelope.MessageId))
        {
            throw new ArgumentException($"Message id '{envelope.MessageId}' may only contain letters, digits, '-' and '_'.", nameof(envelope));
        }

        if (envelope.Recipients.Count == 0)
        {
            throw new ArgumentException("A message needs at least one recipient.", nameof(envelope));
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        var id = envelope.MessageId;
        var relativePath = BodyFiles.RelativePath(id);
        return StorageFaults.RunAsync("starting a message", () =>
        {
            var finalPath = _bodies.FullPath(relativePath);
            var tempPath = _bodies.TempPath(id);
            if (File.Exists(finalPath))
            {
                throw new DirectoryConflictException($"message {id} already exists");
            }

            try
            {
                return Task.FromResult<IMessageWriter>(SqliteMessageWriter.Create(this, envelope, relativePath, tempPath, finalPath));
            }
            catch (IOException exception) when (File.Exists(tempPath))
            {
                throw new DirectoryConflictException($"message {id} is already being delivered", exception);
            }
        });
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
            WHERE d.trashed_utc IS NULL {(filter is null ? string.Empty : "AND mb.address = $mailbox")}
            ORDER BY m.received_utc, m.id, d.id;
            """,
            c =>
            {
                if (filter is not null)
                {
                    c.Parameters.AddWithValue("$mailbox", filter);
                }
            },
            static r => new MessageSummary(
                r.GetString(0),
                r.GetString(1),
                Time.Parse(r.GetString(2)),
                r.GetString(3),
                r.IsDBNull(4) ? null : r.GetString(4),
                r.GetInt64(5)),
            cancellationToken);
    }

    public Task<Stream?> OpenMessageAsync(string messageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        return StorageFaults.RunAsync("opening a message", async () =>
        {
            var paths = await QueryAsync(
                "opening a message",
                "SELECT body_path FROM messages WHERE id = $id;",
                c => c.Parameters.AddWithValue("$id", messageId),
                static r => r.GetString(0),
                cancellationToken).ConfigureAwait(false);
            if (paths.Count == 0)
            {
                return null;
            }

            // A row without its file is damage, not "no such message": FileNotFoundException
            // becomes a StorageException.
            return (Stream?)new FileStream(
                _bodies.FullPath(paths[0]),
                FileMode.Open,
                FileAccess.Read,
                FileShare.Read | FileShare.Delete,
                64 * 1024,
                useAsync: true);
        });
    }

    /// <summary>
    /// The commit point of a delivery: the messages row and one deliveries row per recipient in
    /// one transaction. The body file and its final name are already durable when this runs.
    /// </summary>
    internal Task RecordMessageAsync(MessageEnvelope envelope, string relativePath, long size, string? subject, CancellationToken cancellationToken)
    {
        return WriteAsync("recording a message", async connection =>
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            using var message = connection.CreateCommand();
            message.Transaction = transaction;
            message.CommandText = """
                INSERT INTO messages (id, sender, received_utc, size, subject, body_path)
                VALUES ($id, $sender, $received, $size, $subject, $path);
                """;
            message.Parameters.AddWithValue("$id", envelope.MessageId);
            message.Parameters.AddWithValue("$sender", envelope.Sender);
            message.Parameters.AddWithValue("$received", Time.Format(envelope.ReceivedUtc));
            message.Parameters.AddWithValue("$size", size);
            message.Parameters.AddWithValue("$subject", (object?)subject ?? DBNull.Value);
            message.Parameters.AddWithValue("$path", relativePath);
            await message.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

            using var delivery = connection.CreateCommand();
            delivery.Transaction = transaction;
            delivery.CommandText = """
                INSERT OR IGNORE INTO deliveries (message_id, mailbox_id, recipient)
                VALUES ($id, $mailbox, $recipient);
                """;
            delivery.Parameters.AddWithValue("$id", envelope.MessageId);
            var mailbox = delivery.Parameters.Add("$mailbox", Microsoft.Data.Sqlite.SqliteType.Integer);
            var recipient = delivery.Parameters.Add("$recipient", Microsoft.Data.Sqlite.SqliteType.Text);
            foreach (var to in envelope.Recipients)
            {
                mailbox.Value = to.Mailbox.Id;
                recipient.Value = Normalize(to.Address);
                await delivery.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            transaction.Commit();
            CommitRecorder?.Record(CommitStep.RowCommitted, envelope.MessageId);
        }, cancellationToken);
    }
}
