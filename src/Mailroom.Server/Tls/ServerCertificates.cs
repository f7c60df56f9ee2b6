using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Mailroom.Server.Tls;

/// <summary>
/// The server's TLS certificate, from PEM files, reloaded when the files change (checked at
/// most once a second, at the next handshake), so a renewed certificate takes effect without a
/// restart. When none is configured, <see cref="SelfSigned"/> makes one for the host name in
/// the data folder on first run and logs its SHA-256 fingerprint, so clients can pin it.
/// </summary>
public sealed partial class ServerCertificates
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);
    private readonly string _certificateFile;
    private readonly string _keyFile;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private SslStreamCertificateContext _current;
    private (DateTime Certificate, DateTime Key) _loadedStamps;
    private long _nextCheck;

    private ServerCertificates(string certificateFile, string keyFile, ILogger logger, TimeProvider? time)
    {
        _certificateFile = certificateFile;
        _keyFile = keyFile;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        (_current, Fingerprint) = Load();
        _loadedStamps = Stamps();
        LogLoaded(_logger, _certificateFile, Fingerprint);
    }

    /// <summary>The SHA-256 fingerprint of the certificate in use, as upper-case hex.</summary>
    public string Fingerprint { get; private set; }

    /// <summary>Uses the certificate and key in the named PEM files.</summary>
    public static ServerCertificates FromPemFiles(string certificateFile, string keyFile, ILogger logger, TimeProvider? time = null) =>
        new(certificateFile, keyFile, logger, time);

    /// <summary>
    /// The self-signed certificate in <c>DATA/tls/</c>, made on first use for <paramref name="hostName"/>
    /// (ECDSA P-256, valid for ten years; the key file readable by the owner only).
    /// </summary>
    public static ServerCertificates SelfSigned(string dataDirectory, string hostName, ILogger logger)
    {
        var folder = Path.Combine(dataDirectory, "tls");
        var certificateFile = Path.Combine(folder, "self-signed.crt");
        var keyFile = Path.Combine(folder, "self-signed.key");
        if (!File.Exists(certificateFile) || !File.Exists(keyFile))
        {
            Directory.CreateDirectory(folder);
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN={hostName}", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName(hostName);
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(10));
            File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
            LogCreated(logger, certificateFile, hostName);
        }

        return new ServerCertificates(certificateFile, keyFile, logger, null);
    }

    /// <summary>The certificate for the next handshake, reloaded first if its files changed.</summary>
    public SslStreamCertificateContext Current
    {
        get
        {
            var now = _time.GetTimestamp();
            if (now < Interlocked.Read(ref _nextCheck))
            {
                return _current;
            }

            lock (_lock)
            {
                _nextCheck = now + (long)(CheckInterval.TotalSeconds * _time.TimestampFrequency);
                var stamps = Stamps();
                if (stamps != _loadedStamps)
                {
                    try
                    {
                        (_current, Fingerprint) = Load();
                        _loadedStamps = stamps;
                        LogLoaded(_logger, _certificateFile, Fingerprint);
                    }
                    catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
                    {
                        // A half-written renewal: keep serving the certificate that works and try again later.
                        LogReloadFailed(_logger, ex, _certificateFile);
                    }
                }

                return _current;
            }
        }
    }

    /// <summary>TLS 1.2 and 1.3 only (RFC 8996 retired 1.0 and 1.1).</summary>
    public SslServerAuthenticationOptions ServerOptions() => new()
    {
        ServerCertificateContext = Current,
        EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13,
        ClientCertificateRequired = false,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
    };

    private (SslStreamCertificateContext, string) Load()
    {
        using var pem = X509Certificate2.CreateFromPemFile(_certificateFile, _keyFile);

        // Round-trip through PKCS#12 so the key is usable by SslStream on every platform.
        var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        var fingerprint = Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256));
        return (SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true), fingerprint);
    }

    private (DateTime, DateTime) Stamps() => (File.GetLastWriteTimeUtc(_certificateFile), File.GetLastWriteTimeUtc(_keyFile));

    [LoggerMessage(1200, LogLevel.Information, "TLS certificate {File} loaded, SHA-256 fingerprint {Fingerprint}")]
    private static partial void LogLoaded(ILogger logger, string file, string fingerprint);

    [LoggerMessage(1201, LogLevel.Warning, "Created a self-signed TLS certificate {File} for {HostName}; configure Tls:CertificateFile and Tls:KeyFile for a real one")]
    private static partial void LogCreated(ILogger logger, string file, string hostName);

    [LoggerMessage(1202, LogLevel.Error, "Reloading the TLS certificate {File} failed; the previous one stays in use")]
    private static partial void LogReloadFailed(ILogger logger, Exception exception, string file);
}
