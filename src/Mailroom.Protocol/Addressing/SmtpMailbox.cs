namespace Mailroom.Protocol.Addressing;

/// <summary>
/// An RFC 5321 Mailbox: <c>Local-part "@" ( Domain / address-literal )</c> (section 4.1.2).
/// <see cref="Domain"/> is empty only for the special recipient <c>&lt;Postmaster&gt;</c> (section 4.1.1.3).
/// </summary>
public sealed record SmtpMailbox(string LocalPart, string Domain)
{
    /// <summary>True when any part is outside ASCII, which RFC 6531 allows only with SMTPUTF8.</summary>
    public bool IsInternational => !System.Text.Ascii.IsValid(LocalPart) || !System.Text.Ascii.IsValid(Domain);

    public bool IsDomainless => Domain.Length == 0;

    public override string ToString() => IsDomainless ? LocalPart : LocalPart + "@" + Domain;
}
