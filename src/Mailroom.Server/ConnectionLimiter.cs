using System.Net;
using Mailroom.Protocol.Replies;

namespace Mailroom.Server;

/// <summary>Caps connections in total and per client address; the refusal is a 421 from the catalogue.</summary>
internal sealed class ConnectionLimiter(int maxTotal, int maxPerAddress)
{
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private readonly Lock _lock = new();
    private int _total;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _total;
            }
        }
    }

    /// <summary>Null when the connection may proceed (and is counted); otherwise the 421 to send.</summary>
    public SmtpReply? TryAcquire(IPAddress address)
    {
        lock (_lock)
        {
            if (_total >= maxTotal)
            {
                return ReplyCatalogue.TooManyConnections;
            }

            _perAddress.TryGetValue(address, out var count);
            if (count >= maxPerAddress)
            {
                return ReplyCatalogue.TooManyConnectionsFromAddress;
            }

            _perAddress[address] = count + 1;
            _total++;
            return null;
        }
    }

    public void Release(IPAddress address)
    {
        lock (_lock)
        {
            _total--;
            if (_perAddress.TryGetValue(address, out var count) && count > 1)
            {
                _perAddress[address] = count - 1;
            }
            else
            {
                _perAddress.Remove(address);
            }
        }
    }
}
