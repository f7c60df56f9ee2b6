using Mailroom.Protocol.Addressing;

namespace Mailroom.Server.Session;

/// <summary>The VRFY and EXPN policy, and the address they are asked about.</summary>
internal static class Disclosure
{
    public static bool Allowed(SmtpSession session) => session.Options.VrfyExpn switch
    {
        AddressDisclosure.Anyone => true,
        AddressDisclosure.Authenticated => session.AuthenticatedUser is not null,
        _ => false,
    };

    /// <summary>An address, with or without angle brackets; null when it is not one.</summary>
    public static SmtpMailbox? Address(string argument)
    {
        var text = argument.Trim();
        if (text.StartsWith('<') && text.EndsWith('>'))
        {
            text = text[1..^1];
        }

        return PathGrammar.TryParseMailbox(text, 0, allowUtf8: true, out var mailbox) == text.Length ? mailbox : null;
    }
}
