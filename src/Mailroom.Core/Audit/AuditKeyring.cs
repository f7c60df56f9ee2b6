using System.Globalization;

namespace Mailroom.Core.Audit;

/// <summary>
/// Every cipher and key a reader may need: entries name their cipher and key id, and a log keeps
/// entries written before a key or cipher change (issue 5, item 3), so reading takes all of them.
/// "none" is always there, and any Caesar shift resolves by itself, since its "key" is no secret.
/// </summary>
public sealed class AuditKeyring
{
    private readonly Dictionary<(string Cipher, string KeyId), IAuditCipher> _ciphers = [];

    /// <summary>Adds a cipher with its key; adding the same cipher and key id again replaces it.</summary>
    public void Add(IAuditCipher cipher)
    {
        ArgumentNullException.ThrowIfNull(cipher);
        _ciphers[(cipher.Name, cipher.KeyId)] = cipher;
    }

    /// <summary>Finds the cipher an entry names; false when the key is not in the keyring.</summary>
    public bool TryGet(string cipher, string keyId, out IAuditCipher found)
    {
        ArgumentNullException.ThrowIfNull(cipher);
        ArgumentNullException.ThrowIfNull(keyId);
        if (cipher == NoAuditCipher.Instance.Name)
        {
            found = NoAuditCipher.Instance;
            return true;
        }

        if (_ciphers.TryGetValue((cipher, keyId), out var known))
        {
            found = known;
            return true;
        }

        if (cipher == "caesar" && TryParseShift(keyId, out var shift))
        {
            found = new CaesarAuditCipher(shift);
            return true;
        }

        found = NoAuditCipher.Instance;
        return false;
    }

    private static bool TryParseShift(string keyId, out byte shift)
    {
        shift = 0;
        return keyId.StartsWith("shift-", StringComparison.Ordinal)
            && byte.TryParse(keyId.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out shift)
            && shift != 0;
    }
}
