using System.Net;

namespace Mailroom.Server.Dns;

/// <summary>The client's host name for the Received header; null when unknown.</summary>
public interface IReverseDns
{
    Task<string?> LookupAsync(IPAddress address, CancellationToken cancellationToken);
}

/// <summary>No lookups at all: tests, and servers that want none.</summary>
public sealed class NoReverseDns : IReverseDns
{
    public static readonly NoReverseDns Instance = new();

    public Task<string?> LookupAsync(IPAddress address, CancellationToken cancellationToken) => Task.FromResult<string?>(null);
}

/// <summary>
/// A PTR lookup through the system resolver, confirmed forward (the name must resolve back to the
/// address, or it is not trusted), bounded in time so a slow resolver cannot hold a session.
/// </summary>
public sealed class SystemReverseDns(TimeSpan timeout) : IReverseDns
{
    public async Task<string?> LookupAsync(IPAddress address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            var entry = await System.Net.Dns.GetHostEntryAsync(address.ToString(), cts.Token).ConfigureAwait(false);
            if (string.IsNullOrEmpty(entry.HostName))
            {
                return null;
            }

            var forward = await System.Net.Dns.GetHostAddressesAsync(entry.HostName, cts.Token).ConfigureAwait(false);
            return forward.Any(a => a.Equals(address)) ? entry.HostName : null;
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or OperationCanceledException or ArgumentException)
        {
            return null;
        }
    }
}
