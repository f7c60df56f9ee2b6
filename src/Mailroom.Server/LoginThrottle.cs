using System.Collections.Concurrent;
using System.Net;

namespace Mailroom.Server;

/// <summary>
/// Failed log-ins over a sliding window, counted three ways:
/// <list type="bullet">
/// <item>per client address (IPv6: its /64): past the limit, that address may not try at all (454 4.7.0);</item>
/// <item>per address and account: past the limit, that address may not try that account;</item>
/// <item>per account, from anywhere: only slows every answer down (the delay doubles with each
/// failure, up to a cap), so nobody can lock an account out for its owner by failing on purpose.</item>
/// </list>
/// An attempt is counted when it starts, before the slow password check, so parallel sessions
/// cannot slip more tries past the limit; a success gives the address's try back. Names are
/// counted as the directory compares them (lower case, invariant), so another spelling of the same
/// account is the same account.
/// </summary>
internal sealed class LoginThrottle(SmtpServerOptions options, TimeProvider time)
{
    private const int MaxTracked = 100_000;
    private readonly ConcurrentDictionary<string, Failures> _failures = new(StringComparer.Ordinal);

    private sealed record Failures(int Count, long FirstAt);

    /// <summary>Counts the attempt; false (and it stays counted) when the address, or the address for this account, is over its limit.</summary>
    public bool TryBeginAttempt(IPAddress address, string user)
    {
        if (_failures.Count > MaxTracked)
        {
            Prune();
        }

        var byAddress = Increment(AddressKey(address));
        var byPair = Increment(PairKey(address, user));
        return byAddress <= options.MaxLoginFailuresPerAddress && byPair <= options.MaxLoginFailuresPerAccount;
    }

    /// <summary>The attempt failed; returns how long to wait before saying so.</summary>
    public TimeSpan RecordFailure(IPAddress address, string user)
    {
        var count = Math.Max(Increment(AccountKey(user)), Count(PairKey(address, user)));
        var delay = options.LoginFailureDelay * Math.Pow(2, Math.Min(count - 1, 16));
        return delay < options.MaxLoginFailureDelay ? delay : options.MaxLoginFailureDelay;
    }

    /// <summary>The attempt could not be made (the server was busy): it does not count against anyone.</summary>
    public void CancelAttempt(IPAddress address, string user)
    {
        Decrement(AddressKey(address));
        Decrement(PairKey(address, user));
    }

    /// <summary>
    /// A success gives the attempt back and clears the account's counts; the address keeps its
    /// other failures (one good password does not excuse guessing others).
    /// </summary>
    public void RecordSuccess(IPAddress address, string user)
    {
        Decrement(AddressKey(address));
        _failures.TryRemove(PairKey(address, user), out _);
        _failures.TryRemove(AccountKey(user), out _);
    }

    private int Increment(string key)
    {
        var now = time.GetTimestamp();
        return _failures.AddOrUpdate(key, _ => new Failures(1, now), (_, f) => Expired(f) ? new Failures(1, now) : f with { Count = f.Count + 1 }).Count;
    }

    private void Decrement(string key) =>
        _failures.AddOrUpdate(key, _ => new Failures(0, time.GetTimestamp()), (_, f) => f with { Count = Math.Max(0, f.Count - 1) });

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

    private static string AccountKey(string user) => "user:" + user.ToLowerInvariant();

    private static string PairKey(IPAddress address, string user) => AddressKey(address) + " " + AccountKey(user);
}
