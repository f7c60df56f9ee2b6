using System.Globalization;
using System.Text.Json;
using Mailroom.Core.Audit;
using Mailroom.Server;
using Microsoft.Extensions.Configuration;

namespace Mailroom.Cli.Audit;

/// <summary>
/// The <c>Audit</c> section of the configuration, read once and checked: where the log goes, the
/// node it names, its cipher and keys, and what happens when it cannot be written. The server,
/// the admin commands and <c>mailroom audit</c> all read it the same way.
/// </summary>
/// <param name="Enabled">The audit log is written (default true).</param>
/// <param name="Folder">The log's folder (default DATA/audit).</param>
/// <param name="Node">The name every entry carries (default the machine's name).</param>
/// <param name="Cipher">"none" (default), "aes-256-gcm", or "caesar" (obfuscation only).</param>
/// <param name="KeyFile">The AES-256-GCM key, 32 bytes; only its id goes into the log.</param>
/// <param name="PreviousKeyFiles">Keys used before the current one, so old entries stay readable.</param>
/// <param name="CaesarShift">The shift of the Caesar obfuscation.</param>
/// <param name="ChainKeyFile">The HMAC key of the tamper-evident chain (default DATA/keys/audit-chain.key, made on first use).</param>
/// <param name="MaxFileSize">A file is rotated past this size.</param>
/// <param name="RotateDaily">A file is rotated when the UTC day changes.</param>
/// <param name="FlushInterval">How long an entry nobody waits for may stay off the disk.</param>
/// <param name="OnFailure">Refuse (451 4.3.0) or carry on when the log cannot be written.</param>
public sealed record AuditSettings(
    bool Enabled,
    string Folder,
    string Node,
    string Cipher,
    string? KeyFile,
    IReadOnlyList<string> PreviousKeyFiles,
    byte CaesarShift,
    string ChainKeyFile,
    long MaxFileSize,
    bool RotateDaily,
    TimeSpan FlushInterval,
    AuditFailurePolicy OnFailure)
{
    /// <summary>The stream the server writes; admin commands write <see cref="AdminStream"/>, so the two never share a chain.</summary>
    public const string ServerStream = "server";

    public const string AdminStream = "admin";

    public static AuditSettings From(IConfiguration configuration, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection("Audit");
        var data = Path.GetFullPath(dataDirectory);
        var cipher = (section["Cipher"] is { Length: > 0 } c ? c : "none").ToLowerInvariant();
        var keyFile = section["KeyFile"] is { Length: > 0 } k ? Path.GetFullPath(k) : null;
        if (cipher == "aes-256-gcm" && keyFile is null)
        {
            throw new ArgumentException("Audit:Cipher aes-256-gcm needs Audit:KeyFile (make one with `mailroom audit new-key FILE`).");
        }

        if (cipher is not ("none" or "aes-256-gcm" or "caesar"))
        {
            throw new ArgumentException($"Audit:Cipher '{cipher}' is not one of none, aes-256-gcm, caesar.");
        }

        var shift = section.GetValue("CaesarShift", 3);
        if (shift is < 1 or > 255)
        {
            throw new ArgumentException("Audit:CaesarShift must be between 1 and 255.");
        }

        var maxFileSize = section.GetValue("MaxFileSize", 64L * 1024 * 1024);
        if (maxFileSize < 4096)
        {
            throw new ArgumentException("Audit:MaxFileSize must be at least 4096 octets.");
        }

        var flush = section.GetValue("FlushInterval", TimeSpan.FromSeconds(1));
        if (flush <= TimeSpan.Zero)
        {
            throw new ArgumentException("Audit:FlushInterval must be positive.");
        }

        var onFailure = section["OnFailure"] is { Length: > 0 } policy
            ? Enum.TryParse<AuditFailurePolicy>(policy, ignoreCase: true, out var parsed) ? parsed
                : throw new ArgumentException($"Audit:OnFailure '{policy}' is not Refuse or Continue.")
            : AuditFailurePolicy.Refuse;

        return new AuditSettings(
            section.GetValue("Enabled", true),
            Path.GetFullPath(section["Folder"] is { Length: > 0 } f ? f : "audit", data),
            section["Node"] is { Length: > 0 } node ? node : Environment.MachineName.ToLowerInvariant(),
            cipher,
            keyFile,
            (section.GetSection("PreviousKeyFiles").Get<string[]>() ?? []).Select(Path.GetFullPath).ToArray(),
            (byte)shift,
            Path.GetFullPath(section["ChainKeyFile"] is { Length: > 0 } chain ? chain : Path.Combine("keys", "audit-chain.key"), data),
            maxFileSize,
            section.GetValue("RotateDaily", true),
            flush,
            onFailure);
    }

    /// <summary>The writer's settings for one stream; reads the key files, so it may throw <see cref="AuditLogException"/>.</summary>
    public AuditLogOptions LogOptions(string stream, TimeSpan lockTimeout) => new()
    {
        Folder = Folder,
        Stream = stream,
        Node = Node,
        ChainKey = AuditKeys.LoadOrCreateChainKey(ChainKeyFile),
        Cipher = AuditCiphers.Create(Cipher, KeyFile, CaesarShift),
        MaxFileSize = MaxFileSize,
        RotateDaily = RotateDaily,
        FlushInterval = FlushInterval,
        LockTimeout = lockTimeout,
    };

    /// <summary>Every key the configuration knows, and <paramref name="extraKeyFiles"/>, for reading.</summary>
    public AuditKeyring Keyring(IEnumerable<string> extraKeyFiles)
    {
        var keyring = new AuditKeyring();
        foreach (var file in new[] { KeyFile }.Concat(PreviousKeyFiles).Concat(extraKeyFiles).OfType<string>())
        {
            keyring.Add(new AesGcmAuditCipher(AuditKeys.ReadKeyFile(file)));
        }

        return keyring;
    }

    /// <summary>
    /// Where <c>mailroom serve</c> leaves the audit settings it runs with (absolute paths), in the
    /// data folder. Admin commands and <c>mailroom audit</c> read it first, so that run from any
    /// folder, without the server's configuration file, they still write with the server's cipher,
    /// key, chain key and node, and read with its keys.
    /// </summary>
    public static string ServerSettingsFile(string dataDirectory) => Path.Combine(Path.GetFullPath(dataDirectory), "audit-settings.json");

    /// <summary>The configuration with the server's audit settings beneath it: what is configured here still wins.</summary>
    public static IConfiguration OverServerSettings(string dataDirectory, IConfiguration configuration) =>
        new ConfigurationBuilder()
            .AddJsonFile(ServerSettingsFile(dataDirectory), optional: true)
            .AddConfiguration(configuration)
            .Build();

    /// <summary>Writes <see cref="ServerSettingsFile"/> (readable by the owner only; it names key files, never keys).</summary>
    public void WriteServerSettings(string dataDirectory)
    {
        SettingsFile.Write(ServerSettingsFile(dataDirectory), "Written by mailroom serve at each start: the audit settings it runs with, for the admin commands and mailroom audit.", json =>
        {
            json.WriteStartObject("Audit");
            json.WriteBoolean(nameof(Enabled), Enabled);
            json.WriteString(nameof(Folder), Folder);
            json.WriteString(nameof(Node), Node);
            json.WriteString(nameof(Cipher), Cipher);
            if (KeyFile is not null)
            {
                json.WriteString(nameof(KeyFile), KeyFile);
            }

            json.WriteStartArray(nameof(PreviousKeyFiles));
            foreach (var file in PreviousKeyFiles)
            {
                json.WriteStringValue(file);
            }

            json.WriteEndArray();
            json.WriteNumber(nameof(CaesarShift), CaesarShift);
            json.WriteString(nameof(ChainKeyFile), ChainKeyFile);
            json.WriteNumber(nameof(MaxFileSize), MaxFileSize);
            json.WriteBoolean(nameof(RotateDaily), RotateDaily);
            json.WriteString(nameof(FlushInterval), FlushInterval.ToString("c", CultureInfo.InvariantCulture));
            json.WriteString(nameof(OnFailure), OnFailure.ToString());
            json.WriteEndObject();
        });
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"audit {(Enabled ? "on" : "off")} in {Folder}, node {Node}, cipher {Cipher}");
}
