using System.Globalization;
using Mailroom.Core.Audit;

namespace Mailroom.Core.Storage;

/// <summary>
/// Empties the trash of what has been there longer than the retention: DELE is undoable by an
/// administrator for that long (default 30 days), then the messages and their bodies go for good.
/// </summary>
public sealed class TrashPurger
{
    private readonly IMailboxStore _store;
    private readonly TimeSpan _retention;
    private readonly IAuditLog _audit;

    /// <param name="store">The store whose trash is emptied.</param>
    /// <param name="retention">How long a deleted message stays restorable.</param>
    /// <param name="time">The clock.</param>
    /// <param name="audit">Where each purge that removed something is recorded: messages gone for good are a mailbox action too.</param>
    public TrashPurger(IMailboxStore store, TimeSpan retention, TimeProvider? time = null, IAuditLog? audit = null)
    {
        _audit = audit ?? NullAuditLog.Instance;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(retention, TimeSpan.Zero);
        _store = store;
        _retention = retention;
        _time = time ?? TimeProvider.System;
    }

    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(30);

    private readonly TimeProvider _time;

    /// <summary>Purges once; how many messages left the trash.</summary>
    public async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        var purged = await _store.PurgeTrashAsync(_time.GetUtcNow() - _retention, cancellationToken).ConfigureAwait(false);
        if (purged > 0)
        {
            _audit.Record(new AuditEvent
            {
                Kind = AuditKinds.MailboxPurge,
                Outcome = AuditOutcome.Ok,
                Timestamp = _time.GetUtcNow(),
                Listener = "server",
                Detail = string.Create(CultureInfo.InvariantCulture, $"{purged} message(s) deleted for good after {_retention.TotalDays:0.##} days in the trash"),
            });
        }

        return purged;
    }

    /// <summary>Purges now and then every <paramref name="interval"/> until cancelled; a failed run is reported and retried at the next.</summary>
    public async Task RunAsync(TimeSpan interval, Action<Exception> onFailure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onFailure);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await PurgeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A background loop: any failure is reported and the next run tries again.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                onFailure(ex);
            }

            try
            {
                await Task.Delay(interval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
