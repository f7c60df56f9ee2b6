using System.Net;

namespace Mailroom.Server.Tests.Sessions;

/// <summary>
/// The per-account slow-down: each failed log-in for an account doubles the wait before its
/// answer, up to <see cref="SmtpServerOptions.MaxLoginFailureDelay"/>, wherever the tries come
/// from; a success, or the end of the window, starts it over.
/// </summary>
public class LoginThrottleTests
{
    private const string Alice = "alice@example.test";
    private static readonly IPAddress First = IPAddress.Parse("192.0.2.1");

    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualTime : TimeProvider
    {
        public long Now { get; set; } = 1_000_000;

        public override long GetTimestamp() => Now;

        public void Advance(TimeSpan by) => Now += (long)(by.TotalSeconds * TimestampFrequency);
    }

    private static SmtpServerOptions Options(TimeSpan delay, TimeSpan cap) => new()
    {
        LoginFailureDelay = delay,
        MaxLoginFailureDelay = cap,
        LoginFailureWindow = TimeSpan.FromMinutes(15),
        MaxLoginFailuresPerAddress = 1_000,
        MaxLoginFailuresPerAccount = 1_000,
    };

    /// <summary>One failed try, as the session makes it: counted when it starts, then failed.</summary>
    private static TimeSpan Fail(LoginThrottle throttle, IPAddress address, string user)
    {
        Assert.True(throttle.TryBeginAttempt(address, user));
        return throttle.RecordFailure(address, user);
    }

    private static IPAddress Address(int i) => IPAddress.Parse($"192.0.2.{i}");

    [Fact]
    public void The_delay_doubles_with_each_failure_up_to_the_cap()
    {
        var throttle = new LoginThrottle(Options(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8)), new ManualTime());
        var delays = Enumerable.Range(0, 7).Select(_ => Fail(throttle, First, Alice).TotalSeconds).ToArray();
        Assert.Equal([1, 2, 4, 8, 8, 8, 8], delays);
    }

    [Fact]
    public void Past_sixteen_doublings_the_delay_stops_growing_even_under_a_high_cap()
    {
        var throttle = new LoginThrottle(Options(TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1)), new ManualTime());
        var delays = Enumerable.Range(0, 30).Select(_ => Fail(throttle, First, Alice)).ToArray();
        Assert.Equal(TimeSpan.FromMilliseconds(1), delays[0]);
        Assert.Equal(TimeSpan.FromMilliseconds(2), delays[1]);
        Assert.Equal(TimeSpan.FromMilliseconds(65_536), delays[16]);
        Assert.All(delays[16..], d => Assert.Equal(TimeSpan.FromMilliseconds(65_536), d));
    }

    [Fact]
    public void Failures_from_many_addresses_slow_the_same_account_and_no_other()
    {
        var throttle = new LoginThrottle(Options(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1)), new ManualTime());
        var delays = Enumerable.Range(1, 5).Select(i => Fail(throttle, Address(i), Alice).TotalSeconds).ToArray();
        Assert.Equal([1, 2, 4, 8, 16], delays);

        // Another spelling is the same account; another account starts from the first step.
        Assert.Equal(TimeSpan.FromSeconds(32), Fail(throttle, Address(6), "ALICE@Example.Test"));
        Assert.Equal(TimeSpan.FromSeconds(1), Fail(throttle, Address(5), "bob@example.test"));
    }

    [Fact]
    public void A_success_starts_the_account_over()
    {
        var throttle = new LoginThrottle(Options(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1)), new ManualTime());
        Fail(throttle, Address(1), Alice);
        Fail(throttle, Address(2), Alice);
        Assert.Equal(TimeSpan.FromSeconds(4), Fail(throttle, First, Alice));

        Assert.True(throttle.TryBeginAttempt(First, Alice));
        throttle.RecordSuccess(First, Alice);
        Assert.Equal(TimeSpan.FromSeconds(1), Fail(throttle, Address(3), Alice));
    }

    [Fact]
    public void Failures_older_than_the_window_no_longer_count()
    {
        var time = new ManualTime();
        var throttle = new LoginThrottle(Options(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1)), time);
        Fail(throttle, First, Alice);
        Fail(throttle, First, Alice);
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(TimeSpan.FromSeconds(4), Fail(throttle, First, Alice));

        time.Advance(TimeSpan.FromMinutes(16));
        Assert.Equal(TimeSpan.FromSeconds(1), Fail(throttle, First, Alice));
    }
}
