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
            if (File.Exists(finalPath))
            {
                throw new DirectoryConflictException($"message {id} already exists");
            }

            if (!TryClaim(id))
            {
                throw new DirectoryConflictException($"message {id} is already being delivered");
            }

            return Task.FromResult<IMessageWriter>(new SqliteMessageWriter(this, envelope, relativePath, _bodies.TempPath(id), finalPath));
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
            var rows = await QueryAsync(
                "opening a message",
                "SELECT m.body_path, b.body FROM messages m LEFT JOIN message_bodies b ON b.message_id = m.id WHERE m.id = $id;",
                c => c.Parameters.AddWithValue("$id", messageId),
                static r => (Path: r.GetString(0), Inline: r.IsDBNull(1) ? null : (byte[])r.GetValue(1)),
                cancellationToken).ConfigureAwait(false);
            if (rows.Count == 0)
            {
                return null;
            }

            var (path, inline) = rows[0];
            if (path.Length == 0)
            {
                return inline is null
                    ? throw new StorageException($"opening a message: message {messageId} has no body row")
                    : (Stream?)new MemoryStream(inline, writable: false);
            }

            // A row without its file is damage, not "no such message": FileNotFoundException
            // becomes a StorageException.
            return new FileStream(
                _bodies.FullPath(path),
                FileMode.Open,
                FileAccess.Read,
                FileShare.Read | FileShare.Delete,
                64 * 1024,
                useAsync: true);
        });
    }
}
