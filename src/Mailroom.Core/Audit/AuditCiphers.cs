namespace Mailroom.Core.Audit;

/// <summary>Turns the configuration's cipher name into a cipher, in one place for the server and the CLI.</summary>
public static class AuditCiphers
{
    /// <summary>The names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["none", "aes-256-gcm", "caesar"];

    /// <summary>
    /// Makes the configured cipher: "none", "aes-256-gcm" (which needs <paramref name="keyFile"/>)
    /// or "caesar" (obfuscation only, with <paramref name="caesarShift"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The name is unknown, or AES has no key file.</exception>
    /// <exception cref="AuditLogException">The key file cannot be read.</exception>
    public static IAuditCipher Create(string name, string? keyFile, byte caesarShift)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.ToUpperInvariant() switch
        {
            "NONE" => NoAuditCipher.Instance,
            "AES-256-GCM" => string.IsNullOrEmpty(keyFile)
                ? throw new ArgumentException("The aes-256-gcm audit cipher needs a key file.", nameof(keyFile))
                : new AesGcmAuditCipher(AuditKeys.ReadKeyFile(keyFile)),
            "CAESAR" => caesarShift == 0
                ? throw new ArgumentException("The caesar audit cipher needs a shift from 1 to 255.", nameof(caesarShift))
                : new CaesarAuditCipher(caesarShift),
            _ => throw new ArgumentException($"Unknown audit cipher '{name}': use {string.Join(", ", Names)}.", nameof(name)),
        };
    }
}
