using System.Net;

namespace Mailroom.Core.Audit;

/// <summary>
/// Which entries <c>mailroom audit show</c> prints (issue 5, item 4: filter by time range, user,
/// session, client address and event). Every criterion set must match; an unset one matches all.
/// </summary>
public sealed record AuditFilter
{
    /// <summary>The earliest time shown, inclusive.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>The end of the range, exclusive, so consecutive ranges never show an entry twice.</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>The user, compared without regard to case, as addresses are.</summary>
    public string? User { get; init; }

    /// <summary>The SMTP session id, exactly.</summary>
    public string? Session { get; init; }

    /// <summary>The client: an address matches every port ("192.0.2.1", "[2001:db8::1]"); an address with a port matches that port only.</summary>
    public string? Client { get; init; }

    /// <summary>The mailbox, compared without regard to case.</summary>
    public string? Mailbox { get; init; }

    /// <summary>Event kinds; a kind without a dot also matches its sub-kinds ("mailbox" matches every "mailbox.*").</summary>
    public IReadOnlyCollection<string>? Kinds { get; init; }

    /// <summary>
    /// Whether entries that cannot be read (no key, damaged) pass the event criteria: by default
    /// they do, so a filtered listing never hides that some entries could not be read.
    /// </summary>
    public bool IncludeUnreadable { get; init; } = true;

    /// <summary>Whether the record is one to show.</summary>
    public bool Matches(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if ((From is { } from && record.Timestamp < from) || (To is { } to && record.Timestamp >= to))
        {
            return false;
        }

        if (record.Event is not { } e)
        {
            return IncludeUnreadable || !HasEventCriteria;
        }

        return (User is null || string.Equals(e.User, User, StringComparison.OrdinalIgnoreCase))
            && (Session is null || string.Equals(e.Session, Session, StringComparison.Ordinal))
            && (Client is null || ClientMatches(e.Client, Client))
            && (Mailbox is null || string.Equals(e.Mailbox, Mailbox, StringComparison.OrdinalIgnoreCase))
            && (Kinds is not { Count: > 0 } || Kinds.Any(k => KindMatches(e.Kind, k)));
    }

    private bool HasEventCriteria => User is not null || Session is not null || Client is not null || Mailbox is not null || Kinds is { Count: > 0 };

    private static bool KindMatches(string kind, string wanted) =>
        string.Equals(kind, wanted, StringComparison.OrdinalIgnoreCase)
        || (!wanted.Contains('.', StringComparison.Ordinal)
            && kind.Length > wanted.Length
            && kind[wanted.Length] == '.'
            && kind.StartsWith(wanted, StringComparison.OrdinalIgnoreCase));

    private static bool ClientMatches(string? client, string wanted)
    {
        if (client is null)
        {
            return false;
        }

        if (string.Equals(client, wanted, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var (wantedHost, wantedHasPort) = Split(wanted);
        var (host, _) = Split(client);
        return !wantedHasPort && SameHost(host, wantedHost);
    }

    // "192.0.2.1:25" and "[2001:db8::1]:25" have a port; "2001:db8::1" (several colons, no brackets) and "local" do not.
    private static (string Host, bool HasPort) Split(string endpoint)
    {
        if (endpoint.StartsWith('['))
        {
            var close = endpoint.IndexOf(']', StringComparison.Ordinal);
            return close < 0 ? (endpoint, false) : (endpoint[1..close], close < endpoint.Length - 1);
        }

        var colon = endpoint.IndexOf(':', StringComparison.Ordinal);
        return colon >= 0 && colon == endpoint.LastIndexOf(':') ? (endpoint[..colon], true) : (endpoint, false);
    }

    private static bool SameHost(string a, string b)
    {
        if (IPAddress.TryParse(a, out var x) && IPAddress.TryParse(b, out var y))
        {
            return Plain(x).Equals(Plain(y));
        }

        return string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
    }

    // A dual-stack listener reports IPv4 clients as ::ffff:192.0.2.1; the admin types 192.0.2.1.
    private static IPAddress Plain(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
