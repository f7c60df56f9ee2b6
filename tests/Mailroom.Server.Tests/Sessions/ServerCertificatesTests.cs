using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mailroom.Server.Tls;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mailroom.Server.Tests.Sessions;

public sealed class ServerCertificatesTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mailroom-tls-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualTime : TimeProvider
    {
        public long Now { get; set; } = 1_000_000;

        public override long GetTimestamp() => Now;

        public void Advance(TimeSpan by) => Now += (long)(by.TotalSeconds * TimestampFrequency);
    }

    private static (string Certificate, string Key) MakePem(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    [Fact]
    public void A_renewed_certificate_is_picked_up_without_a_restart()
    {
        var certificateFile = Path.Combine(_folder, "server.crt");
        var keyFile = Path.Combine(_folder, "server.key");
        var (first, firstKey) = MakePem("first.example.test");
        File.WriteAllText(certificateFile, first);
        File.WriteAllText(keyFile, firstKey);
        var time = new ManualTime();
        var certificates = ServerCertificates.FromPemFiles(certificateFile, keyFile, NullLogger.Instance, time);
        var before = certificates.Fingerprint;
        Assert.Contains("first.example.test", certificates.Current.TargetCertificate.Subject, StringComparison.Ordinal);

        var (second, secondKey) = MakePem("second.example.test");
        File.WriteAllText(certificateFile, second);
        File.WriteAllText(keyFile, secondKey);
        File.SetLastWriteTimeUtc(certificateFile, DateTime.UtcNow.AddSeconds(5));
        time.Advance(TimeSpan.FromSeconds(2));

        Assert.Contains("second.example.test", certificates.Current.TargetCertificate.Subject, StringComparison.Ordinal);
        Assert.NotEqual(before, certificates.Fingerprint);
    }

    [Fact]
    public void A_broken_renewal_keeps_the_working_certificate()
    {
        var certificateFile = Path.Combine(_folder, "server.crt");
        var keyFile = Path.Combine(_folder, "server.key");
        var (pem, key) = MakePem("good.example.test");
        File.WriteAllText(certificateFile, pem);
        File.WriteAllText(keyFile, key);
        var time = new ManualTime();
        var certificates = ServerCertificates.FromPemFiles(certificateFile, keyFile, NullLogger.Instance, time);

        File.WriteAllText(certificateFile, "-----BEGIN CERTIFICATE-----\nhalf written");
        File.SetLastWriteTimeUtc(certificateFile, DateTime.UtcNow.AddSeconds(5));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Contains("good.example.test", certificates.Current.TargetCertificate.Subject, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_tls_1_2_and_1_3_are_enabled()
    {
        var certificates = ServerCertificates.SelfSigned(_folder, "mx.example.test", NullLogger.Instance);
        Assert.Equal(System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13, certificates.ServerOptions().EnabledSslProtocols);
    }

    [Fact]
    public void The_self_signed_certificate_is_made_once_for_the_host_name_with_a_private_key_file()
    {
        var first = ServerCertificates.SelfSigned(_folder, "mx.example.test", NullLogger.Instance);
        var keyFile = Path.Combine(_folder, "tls", "self-signed.key");
        Assert.True(File.Exists(keyFile));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        }

        Assert.Contains("mx.example.test", first.Current.TargetCertificate.Subject, StringComparison.Ordinal);

        // A restart finds the same certificate, so a pinned fingerprint stays valid.
        var again = ServerCertificates.SelfSigned(_folder, "mx.example.test", NullLogger.Instance);
        Assert.Equal(first.Fingerprint, again.Fingerprint);
        Assert.Equal(64, first.Fingerprint.Length);
    }
}
