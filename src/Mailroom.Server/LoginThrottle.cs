using System.Collections.Concurrent;
using System.Net;

namespace Mailroom.Server;

/// <summary>
/// Failed log-ins, counted per client address and per account over a sliding window. Each
/// failure is answered after a delay that doubles with every failure (up to a cap); past the
/// limit, log-ins from that address or for that account are refused outright with 454 4.7.0
/// until the window has passed, whatever the password.
/// </summary>
internal sealed class LoginThrottle(SmtpServerOptions options, TimeProvider time)
{
    private const int MaxTracked = 100_000;
    private readonly ConcurrentDictionary<string, Failures> _failures = new(StringComparer.OrdinalIgnoreCase);

    private sealed record Failures(int Count, long FirstAt);

    /// <summary>True when this address or this account has failed too often lately.</summary>
    public bool IsBlocked(IPAddress address, string user) =>
        Count(AddressKey(address)) >= options.MaxLoginFailuresPerAddress || Count(AccountKey(user)) >= options.MaxLoginFailuresPerAccount;

    /// <summary>Counts a failure; returns how long to wait before saying so.</summary>
    public TimeSpan RecordFailure(IPAddress address, string user)
    {
        if (_failures.Count > MaxTracked)
        {
            Prune();
        }

        var now = time.GetTimestamp();
        var count = 0;
        foreach (var key in new[] { AddressKey(address), AccountKey(user) })
        {
            var updated = _failures.AddOrUpdate(key, _ => new Failures(1, now), (_, f) => Expired(f) ? new Failures(1, now) : f with { Count = f.Count + 1 });
            count = Math.Max(count, updated.Count);
        }

        var delay = options.LoginFailureDelay * Math.Pow(2, Math.Min(count - 1, 16));
        return delay < options.MaxLoginFailureDelay ? delay : options.MaxLoginFailureDelay;
    }

    /// <summary>A success clears the account's count (not the address's: one good password does not excuse guessing others).</summary>
    public void RecordSuccess(string user) => _failures.TryRemove(AccountKey(user), out _);

    private int Count(string key) => _failures.TryGetValue(key, out var f) && !Expired(f) ? f.Count : 0;

    private bool Expired(Failures f) => time.GetElapsedTime(f.FirstAt) > options.LoginFailureWindow;

    private void Prune()
    {
        foreach (var (key, value) in _failures)
        {
            if (Expired(value))
            {
                _failures.TryRemove(key, out _);
            }
        }
    }

    private static string AddressKey(IPAddress address) => "ip:" + ConnectionLimiter.ClientKey(address);

    private static string AccountKey(string user) => "user:" + user;
}
