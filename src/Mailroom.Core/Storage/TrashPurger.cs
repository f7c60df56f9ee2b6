namespace Mailroom.Core.Storage;

/// <summary>
/// Empties the trash of what has been there longer than the retention: DELE is undoable by an
/// administrator for that long (default 30 days), then the messages and their bodies go for good.
/// </summary>
public sealed class TrashPurger(IMailboxStore store, TimeSpan retention, TimeProvider? time = null)
{
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(30);

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Purges once; how many messages left the trash.</summary>
    public Task<int> PurgeAsync(CancellationToken cancellationToken) =>
        store.PurgeTrashAsync(_time.GetUtcNow() - retention, cancellationToken);

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
            catch (StorageException ex)
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
