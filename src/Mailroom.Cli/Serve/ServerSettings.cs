using System.Net;
using Mailroom.Cli.Audit;
using Mailroom.Core.Storage;
using Mailroom.Server;
using Microsoft.Extensions.Configuration;

namespace Mailroom.Cli.Serve;

/// <summary>Everything <c>mailroom serve</c> needs, read once from the configuration and checked.</summary>
/// <param name="DataDirectory">The data folder.</param>
/// <param name="Listen">Every listener with its role: smtp (MX), submission (STARTTLS, then AUTH), submissions (implicit TLS, AUTH).</param>
/// <param name="Domains">The local domains.</param>
/// <param name="Smtp">The receiver's settings.</param>
/// <param name="TlsCertificateFile">A PEM certificate (chain); with <paramref name="TlsKeyFile"/>, or none for the self-signed one.</param>
/// <param name="TlsKeyFile">The PEM private key of <paramref name="TlsCertificateFile"/>.</param>
/// <param name="TrashRetention">How long deleted messages stay restorable (default 30 days).</param>
/// <param name="Audit">The audit log's settings; none means no audit log (tests that build settings by hand).</param>
/// <param name="Store">The store; none means the embedded SQLite store in <paramref name="DataDirectory"/>.</param>
public sealed record ServerSettings(
    string DataDirectory,
    IReadOnlyList<SmtpListener> Listen,
    IReadOnlyList<string> Domains,
    SmtpServerOptions Smtp,
    string? TlsCertificateFile = null,
    string? TlsKeyFile = null,
    TimeSpan? TrashRetention = null,
    AuditSettings? Audit = null,
    StoreSettings? Store = null)
{
    public const string DefaultListen = "127.0.0.1:2525";
    public const string DefaultSubmission = "127.0.0.1:2587";
    public const string DefaultSubmissions = "127.0.0.1:2465";

    /// <summary>
    /// Reads the settings. A list given by flags replaces the configured list whole, rather than
    /// being merged into it item by item as configuration sources otherwise are.
    /// </summary>
    public static ServerSettings From(
        IConfiguration configuration,
        string[]? listenFlags = null,
        string[]? domainFlags = null,
        string[]? submissionFlags = null,
        string[]? submissionsFlags = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var smtp = new SmtpServerOptions();
        configuration.GetSection("Smtp").Bind(smtp);
        smtp.Validate();
        var listen = Pick(listenFlags, configuration.GetSection("Smtp:Listen").Get<string[]>(), [DefaultListen]).Select(e => new SmtpListener(ParseEndpoint(e), ListenerRole.Smtp))
            .Concat(Pick(submissionFlags, configuration.GetSection("Submission:Listen").Get<string[]>(), [DefaultSubmission]).Select(e => new SmtpListener(ParseEndpoint(e), ListenerRole.Submission)))
            .Concat(Pick(submissionsFlags, configuration.GetSection("Submissions:Listen").Get<string[]>(), [DefaultSubmissions]).Select(e => new SmtpListener(ParseEndpoint(e), ListenerRole.Submissions)));
        var domains = Pick(domainFlags, configuration.GetSection("Domains").Get<string[]>(), ["localhost"]);
        var certificate = configuration["Tls:CertificateFile"];
        var key = configuration["Tls:KeyFile"];
        if (string.IsNullOrEmpty(certificate) != string.IsNullOrEmpty(key))
        {
            throw new ArgumentException("Tls:CertificateFile and Tls:KeyFile go together: set both, or neither for a self-signed certificate.");
        }

        var retention = configuration.GetValue<TimeSpan?>("Store:TrashRetention") ?? TrashPurger.DefaultRetention;
        if (retention <= TimeSpan.Zero)
        {
            throw new ArgumentException("Store:TrashRetention must be positive: it is how long DELE can be undone.");
        }

        var data = configuration["Data"] is { Length: > 0 } configured ? configured : "data";
        var audit = AuditSettings.From(configuration, data);
        var store = StoreSettings.From(configuration, data);
        smtp.AuditOnFailure = audit.OnFailure;
        return new ServerSettings(
            data,
            listen.ToArray(),
            domains.Select(d => d.Trim().ToLowerInvariant()).Distinct().ToArray(),
            smtp,
            string.IsNullOrEmpty(certificate) ? null : certificate,
            string.IsNullOrEmpty(key) ? null : key,
            retention,
            audit,
            store);
    }

    /// <summary>IP:PORT, with IPv6 in brackets ([::1]:2525).</summary>
    public static IPEndPoint ParseEndpoint(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.LastIndexOf(':');
        var hasPort = colon > 0 && colon < text.Length - 1 && text.AsSpan(colon + 1).IndexOfAnyExceptInRange('0', '9') < 0 &&
            (text.IndexOf(':', StringComparison.Ordinal) == colon || text[colon - 1] == ']');
        if (hasPort && IPEndPoint.TryParse(text, out var endpoint))
        {
            return endpoint;
        }

        throw new FormatException($"'{text}' is not an IP:PORT listener address (for example 127.0.0.1:2525 or [::1]:2525).");
    }

    /// <summary>The store to open: the configured one, or the embedded default in the data folder.</summary>
    public StoreSettings StoreOrDefault => Store ?? new StoreSettings(StoreProvider.Sqlite, Path.GetFullPath(DataDirectory));

    private static string[] Pick(string[]? flags, string[]? configured, string[] fallback) =>
        flags is { Length: > 0 } ? flags : configured is { Length: > 0 } ? configured : fallback;
}
