namespace Mailroom.Core.Storage;

/// <summary>
/// Empties the trash of what has been there longer than the retention: DELE is undoable by an
/// administrator for that long (default 30 days), then the messages and their bodies go for good.
/// </summary>
public sealed class TrashPurger
{
    private readonly IMailboxStore _store;
    private readonly TimeSpan _retention;

    public TrashPurger(IMailboxStore store, TimeSpan retention, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(retention, TimeSpan.Zero);
        _store = store;
        _retention = retention;
        _time = time ?? TimeProvider.System;
    }

    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(30);

    private readonly TimeProvider _time;

    /// <summary>Purges once; how many messages left the trash.</summary>
    public Task<int> PurgeAsync(CancellationToken cancellationToken) =>
        _store.PurgeTrashAsync(_time.GetUtcNow() - _retention, cancellationToken);

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
