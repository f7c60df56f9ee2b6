using System.Security.Cryptography;
using System.Text;

namespace Mailroom.Core.Audit;

/// <summary>
/// Key files for the audit log: the AES key named in the configuration (issue 5, item 3: "key
/// from a key file named in the configuration, never in the log") and the chain key that makes
/// the entries tamper-evident. Both are 32 random bytes, kept as base64 text in a file only the
/// server's user can read.
/// </summary>
public static class AuditKeys
{
    /// <summary>The size of every audit key: AES-256 and HMAC-SHA256 both take 32 bytes.</summary>
    public const int KeySize = 32;

    private const int MaxKeyFileSize = 4096;

    /// <summary>
    /// Reads a 32-byte key from a file: base64 text (what <see cref="CreateKeyFile"/> writes), 64
    /// hex digits, or 32 raw bytes, so keys made with openssl or another tool work as they are.
    /// </summary>
    /// <exception cref="AuditLogException">The file cannot be read or does not hold a 32-byte key.</exception>
    public static byte[] ReadKeyFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] contents;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaxKeyFileSize)
            {
                throw new AuditLogException($"The key file {path} is {info.Length} bytes long; a key file holds one 32-byte key.");
            }

            contents = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && ex is not AuditLogException)
        {
            throw new AuditLogException($"The key file {path} cannot be read: {ex.Message}", ex);
        }

        return TryDecode(contents, out var key)
            ? key
            : throw new AuditLogException(
                $"The key file {path} does not hold a 32-byte key: expected base64 text (as written by CreateKeyFile), 64 hex digits or 32 raw bytes.");
    }

    /// <summary>
    /// Writes a new random key as base64 text, readable by the owner only (0600 on Unix). It never
    /// overwrites a file: replacing a key would make every entry written with it unreadable.
    /// </summary>
    /// <exception cref="AuditLogException">The file exists or cannot be written.</exception>
    public static void CreateKeyFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var key = RandomNumberGenerator.GetBytes(KeySize);
        try
        {
            WriteNewKeyFile(path, key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// Reads the chain key, making it on first use, so a server starts with tamper evidence without
    /// a setup step. The folder it goes in is made owner-only (0700) if it is new.
    /// </summary>
    /// <exception cref="AuditLogException">The file cannot be read, made or holds no valid key.</exception>
    public static byte[] LoadOrCreateChainKey(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            var key = RandomNumberGenerator.GetBytes(KeySize);
            try
            {
                WriteNewKeyFile(path, key);
                return key;
            }
            catch (AuditLogException) when (File.Exists(path))
            {
                // Another process made it first; use theirs.
            }
        }

        return ReadKeyFile(path);
    }

    /// <summary>Names a key without revealing it: the first 8 bytes of its SHA-256, in lower-case hex.</summary>
    public static string KeyId(ReadOnlySpan<byte> key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(key, hash);
        return Convert.ToHexStringLower(hash[..8]);
    }

    private static bool TryDecode(byte[] contents, out byte[] key)
    {
        var text = Encoding.ASCII.GetString(contents).Trim();
        if (text.Length == 64 && text.All(char.IsAsciiHexDigit))
        {
            key = Convert.FromHexString(text);
            return true;
        }

        var buffer = new byte[KeySize];
        if (Convert.TryFromBase64String(text, buffer, out var written) && written == KeySize)
        {
            key = buffer;
            return true;
        }

        key = contents;
        return contents.Length == KeySize;
    }

    private static void WriteNewKeyFile(string path, byte[] key)
    {
        if (File.Exists(path))
        {
            throw KeyFileExists(path);
        }

        FileStream stream;
        try
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder is not null)
            {
                AuditFileSystem.CreatePrivateFolder(folder);
            }

            stream = new FileStream(path, AuditFileSystem.PrivateFileOptions(FileMode.CreateNew, FileAccess.Write));
        }
        catch (IOException) when (File.Exists(path))
        {
            throw KeyFileExists(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new AuditLogException($"The key file {path} cannot be written: {ex.Message}", ex);
        }

        try
        {
            using (stream)
            {
                stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(key) + "\n"));
                stream.Flush(flushToDisk: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A half-written key file would later read as "no valid key"; leave nothing behind.
            File.Delete(path);
            throw new AuditLogException($"The key file {path} cannot be written: {ex.Message}", ex);
        }
    }

    private static AuditLogException KeyFileExists(string path) =>
        new($"The key file {path} already exists; a key file is never overwritten, since the entries written with its key would become unreadable.");
}
