using System.Net;
using Mailroom.Protocol.Replies;

namespace Mailroom.Server;

/// <summary>
/// Caps connections in total and per client; the refusal is a 421 from the catalogue. An IPv6
/// client is counted by its /64, since one host commonly holds a whole /64 and could otherwise
/// take every slot with addresses of its own.
/// </summary>
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
        address = ClientKey(address);
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
        address = ClientKey(address);
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

    /// <summary>The address a client is counted under: IPv4 as it is, IPv6 cut to its /64.</summary>
    internal static IPAddress ClientKey(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }
}
