namespace Mailroom.Core.Storage;

/// <summary>
/// How every store keeps addresses and domains: lower case (ordinal, invariant), so plain unique
/// constraints and equality compare them case-insensitively. Callers pass them as typed.
/// </summary>
public static class StoredAddress
{
    public static string Normalize(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.ToLowerInvariant();
    }

    public static string Domain(string domain)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(domain);
        return Normalize(domain);
    }

    /// <summary>local-part@domain (RFC 5321 4.1.2 Mailbox); the domain is after the last '@', since a quoted local part may hold one.</summary>
    public static string Mailbox(string address, out string domain)
    {
        ArgumentNullException.ThrowIfNull(address);
        var normalized = Normalize(address);
        var at = normalized.LastIndexOf('@');
        if (at <= 0 || at == normalized.Length - 1)
        {
            throw new ArgumentException($"'{address}' is not an address of the form local-part@domain.", nameof(address));
        }

        domain = normalized[(at + 1)..];
        return normalized;
    }
}
