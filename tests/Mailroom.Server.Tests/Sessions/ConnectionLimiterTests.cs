using System.Net;

namespace Mailroom.Server.Tests.Sessions;

public class ConnectionLimiterTests
{
    [Fact]
    public void Ipv6_clients_are_counted_by_their_64()
    {
        var limiter = new ConnectionLimiter(maxTotal: 100, maxPerAddress: 2);
        Assert.Null(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:2::1")));
        Assert.Null(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:2:ffff::9")));
        Assert.Equal(421, limiter.TryAcquire(IPAddress.Parse("2001:db8:1:2:abcd::1"))!.Code);
        Assert.Null(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:3::1")));
        limiter.Release(IPAddress.Parse("2001:db8:1:2::1"));
        Assert.Null(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:2::77")));
    }

    [Fact]
    public void Ipv4_and_ipv4_mapped_addresses_are_one_client()
    {
        var limiter = new ConnectionLimiter(maxTotal: 100, maxPerAddress: 1);
        Assert.Null(limiter.TryAcquire(IPAddress.Parse("192.0.2.7")));
        Assert.Equal(421, limiter.TryAcquire(IPAddress.Parse("::ffff:192.0.2.7"))!.Code);
        Assert.Null(limiter.TryAcquire(IPAddress.Parse("192.0.2.8")));
        Assert.Equal(2, limiter.Count);
    }
}
