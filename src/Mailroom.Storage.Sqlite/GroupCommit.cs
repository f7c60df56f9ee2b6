using System.Threading.Channels;
using Mailroom.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Mailroom.Storage.Sqlite;

/// <summary>One delivery's rows waiting for their commit; the body is inline or already a durable file.</summary>
internal sealed record PendingDelivery(MessageEnvelope Envelope, string BodyPath, byte[]? InlineBody, long Size, string? Subject)
{
    public TaskCompletionSource Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// Group commit: deliveries that are ready while a commit is in progress wait for the next one,
/// and one transaction (one fsync of the WAL, synchronous=FULL) then makes all of them durable.
/// More sessions therefore mean more messages per fsync, not more fsyncs. Nothing waits on a
/// timer: a delivery alone commits at once, as before. A batch that fails is retried one
/// delivery at a time, so one bad delivery (an id stored already) fails only itself.
/// </summary>
internal sealed class GroupCommit
{
    /// <summary>Enough to share one fsync among many sessions, few enough to keep a transaction short.</summary>
    private const int MaxBatch = 256;

    /// <summary>Inline bodies in one transaction at most (the WAL holds them until a checkpoint).</summary>
    private const long MaxBatchBytes = 8L * 1024 * 1024;

    private readonly SqliteMailStore _store;
    private readonly Channel<PendingDelivery> _queue = Channel.CreateUnbounded<PendingDelivery>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private int _pending;

    /// <summary>Set by the loop's one thread of work once the transaction being written has committed.</summary>
    private bool _batchCommitted;
    private int _writing;

    public GroupCommit(SqliteMailStore store)
    {
        _store = store;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Deliveries queued for a transaction, or in the one being written (for tests).</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Deliveries in the transaction being written now (for tests).</summary>
    public int Writing => Volatile.Read(ref _writing);

    /// <summary>The most deliveries one transaction has tried to commit so far (for tests).</summary>
    public int LargestBatch { get; private set; }

    /// <summary>
    /// Queues the delivery and returns once its transaction committed. Deliberately not
    /// cancellable: once queued, the rows may commit whatever the caller does, and a caller that
    /// left early would remove a body its row still names.
    /// </summary>
    public Task CommitAsync(PendingDelivery delivery)
    {
        Interlocked.Increment(ref _pending);
        if (!_queue.Writer.TryWrite(delivery))
        {
            Interlocked.Decrement(ref _pending);
            throw new StorageException("recording a message: the store is closing");
        }

        return delivery.Committed.Task;
    }

    /// <summary>Lets the deliveries already queued commit, then ends the loop.</summary>
    public Task CompleteAsync()
    {
        _queue.Writer.TryComplete();
        return _loop;
    }

    private async Task LoopAsync()
    {
        var batch = new List<PendingDelivery>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            long bytes = 0;
            while (batch.Count < MaxBatch && bytes < MaxBatchBytes && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
                bytes += next.InlineBody?.Length ?? 0;
            }

            Volatile.Write(ref _writing, batch.Count);
            LargestBatch = Math.Max(LargestBatch, batch.Count);
            try
            {
                await WriteAsync(batch).ConfigureAwait(false);
                Complete(batch, null);
            }
#pragma warning disable CA1031 // Every failure goes to the deliveries that wait for it; the loop must live on.
            catch (Exception) when (_batchCommitted)
            {
                // Thrown after the commit (closing the connection, a recorder): the rows are
                // durable, so the deliveries are too. Failing them now would have their writers
                // delete the files of committed rows.
                Complete(batch, null);
            }
            catch (Exception exception) when (batch.Count > 1 && IsTheDeliverysOwn(exception))
            {
                // One delivery's own fault (an id stored already): each is tried alone, so it fails alone.
                foreach (var delivery in batch)
                {
                    await WriteAloneAsync(delivery).ConfigureAwait(false);
                }
            }
            catch (Exception exception)
            {
                // The store's fault (busy, full, broken): every delivery of the batch gets it.
                Complete(batch, exception);
            }
#pragma warning restore CA1031

            Volatile.Write(ref _writing, 0);
            Interlocked.Add(ref _pending, -batch.Count);
            batch.Clear();
        }
    }

    private static bool IsTheDeliverysOwn(Exception exception) =>
        exception is DirectoryConflictException
        || exception is StorageException { InnerException: Microsoft.Data.Sqlite.SqliteException sqlite } && StorageFaults.IsUniqueViolation(sqlite);

    private static void Complete(List<PendingDelivery> batch, Exception? failure)
    {
        foreach (var delivery in batch)
        {
            if (failure is null)
            {
                delivery.Committed.TrySetResult();
            }
            else
            {
                delivery.Committed.TrySetException(failure);
            }
        }
    }

    private async Task WriteAloneAsync(PendingDelivery delivery)
    {
        try
        {
            await WriteAsync([delivery]).ConfigureAwait(false);
            delivery.Committed.TrySetResult();
        }
#pragma warning disable CA1031 // The failure is the delivery's own.
        catch (Exception) when (_batchCommitted)
        {
            delivery.Committed.TrySetResult();
        }
        catch (Exception exception)
#pragma warning restore CA1031
        {
            delivery.Committed.TrySetException(exception);
        }
    }

    /// <summary>The messages rows, inline bodies and deliveries rows of a batch in one transaction.</summary>
    private Task WriteAsync(IReadOnlyList<PendingDelivery> batch)
    {
        _batchCommitted = false;
        return _store.WriteAsync("recording messages", async connection =>
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            using var message = connection.CreateCommand();
            message.Transaction = transaction;
            message.CommandText = """
                INSERT INTO messages (id, sender, received_utc, size, subject, body_path)
                VALUES ($id, $sender, $received, $size, $subject, $path);
                """;
            var messageId = message.Parameters.Add("$id", SqliteType.Text);
            var sender = message.Parameters.Add("$sender", SqliteType.Text);
            var received = message.Parameters.Add("$received", SqliteType.Text);
            var size = message.Parameters.Add("$size", SqliteType.Integer);
            var subject = message.Parameters.Add("$subject", SqliteType.Text);
            var path = message.Parameters.Add("$path", SqliteType.Text);

            using var body = connection.CreateCommand();
            body.Transaction = transaction;
            body.CommandText = "INSERT INTO message_bodies (message_id, body) VALUES ($id, $body);";
            var bodyId = body.Parameters.Add("$id", SqliteType.Text);
            var bodyBytes = body.Parameters.Add("$body", SqliteType.Blob);

            using var delivery = connection.CreateCommand();
            delivery.Transaction = transaction;
            delivery.CommandText = """
                INSERT OR IGNORE INTO deliveries (message_id, mailbox_id, recipient)
                VALUES ($id, $mailbox, $recipient);
                """;
            var deliveryId = delivery.Parameters.Add("$id", SqliteType.Text);
            var mailbox = delivery.Parameters.Add("$mailbox", SqliteType.Integer);
            var recipient = delivery.Parameters.Add("$recipient", SqliteType.Text);

            foreach (var pending in batch)
            {
                var envelope = pending.Envelope;
                messageId.Value = envelope.MessageId;
                sender.Value = envelope.Sender;
                received.Value = Time.Format(envelope.ReceivedUtc);
                size.Value = pending.Size;
                subject.Value = (object?)pending.Subject ?? DBNull.Value;
                path.Value = pending.BodyPath;
                await ExecuteUniqueAsync(message, envelope.MessageId).ConfigureAwait(false);

                if (pending.InlineBody is { } inline)
                {
                    bodyId.Value = envelope.MessageId;
                    bodyBytes.Value = inline;
                    await body.ExecuteNonQueryAsync().ConfigureAwait(false);
                }

                deliveryId.Value = envelope.MessageId;
                foreach (var to in envelope.Recipients)
                {
                    mailbox.Value = to.Mailbox.Id;
                    recipient.Value = StoredAddress.Normalize(to.Address);
                    await delivery.ExecuteNonQueryAsync().ConfigureAwait(false);
                }
            }

            transaction.Commit();
            _batchCommitted = true;
            foreach (var pending in batch)
            {
                _store.CommitRecorder?.Record(CommitStep.RowCommitted, pending.Envelope.MessageId);
            }
        }, CancellationToken.None);
    }

    private static async Task ExecuteUniqueAsync(SqliteCommand command, string messageId)
    {
        try
        {
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        catch (SqliteException exception) when (StorageFaults.IsUniqueViolation(exception))
        {
            throw new DirectoryConflictException($"message {messageId} already exists", exception);
        }
    }
}
