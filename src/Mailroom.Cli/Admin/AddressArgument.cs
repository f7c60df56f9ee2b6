namespace Mailroom.Cli.Admin;

internal static class AddressArgument
{
    /// <summary>
    /// local-part@domain, checked only as far as the store needs (RFC 5321 4.1.2: Mailbox =
    /// Local-part "@" Domain); the domain is after the last '@', as a quoted local part may hold one.
    /// </summary>
    public static string Check(string? address)
    {
        var at = address?.LastIndexOf('@') ?? -1;
        if (address is null || at <= 0 || at == address.Length - 1 || address.Any(char.IsWhiteSpace))
        {
            throw new AdminException(ExitCodes.Usage, $"'{address}' is not an address of the form user@domain");
        }

        return address;
    }

    public static string DomainOf(string address) => address[(address.LastIndexOf('@') + 1)..];
}
