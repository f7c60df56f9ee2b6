using Mailroom.Cli.Audit;
using Mailroom.Core.Accounts;
using Mailroom.Core.Audit;
using Mailroom.Core.Storage;
using Mailroom.Server;
using Mailroom.Server.Session;
using Mailroom.Server.Tls;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mailroom.Cli.Serve;

/// <summary>
/// Runs the server under the generic host: console logs, one line per event, and SIGTERM or
/// Ctrl-C for a graceful stop.
/// </summary>
public static class ServerHost
{
    public static async Task<int> RunAsync(IConfiguration configuration, ServerSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.AddConfiguration(configuration.GetSection("Logging"));

        // A start that fails (the store cannot be opened, a port is taken) reaches `mailroom
        // serve` as an exception, which says it in one line; the host's own report of it is a
        // stack trace that buries that line.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        builder.Services.AddSingleton(settings);
        builder.Services.AddHostedService<MailServerService>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.Smtp.ShutdownGracePeriod + TimeSpan.FromSeconds(10));
        using var host = builder.Build();
        await host.RunAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }
}

/// <summary>Opens the store, makes sure the configured domains exist, and runs the listeners.</summary>
internal sealed partial class MailServerService(ServerSettings settings, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggers.CreateLogger("Mailroom.Server");
    private IMailStore? _store;
    private FileAuditLog? _audit;
    private SmtpServer? _server;
    private Authenticator? _authenticator;
    private CancellationTokenSource? _purging;
    private Task? _purger;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var data = Path.GetFullPath(settings.DataDirectory);
        var storeSettings = settings.StoreOrDefault;
        _store = await storeSettings.OpenAsync(cancellationToken).ConfigureAwait(false);
        storeSettings.WriteServerSettings();
        foreach (var domain in settings.Domains)
        {
            await _store.AddDomainAsync(domain, cancellationToken).ConfigureAwait(false);
        }

        LogStarting(_logger, data, storeSettings.Describe(), string.Join(", ", settings.Domains));
        var certificates = settings.TlsCertificateFile is not null
            ? ServerCertificates.FromPemFiles(settings.TlsCertificateFile, settings.TlsKeyFile!, _logger)
            : ServerCertificates.SelfSigned(data, settings.Smtp.HostName, _logger);
        _audit = await OpenAuditAsync(cancellationToken).ConfigureAwait(false);
        settings.Audit?.WriteServerSettings(data);
        _authenticator = new Authenticator(_store);
        _server = new SmtpServer(new SmtpServices(settings.Smtp, _store, _logger, certificates: certificates, authenticator: _authenticator, audit: _audit));
        _server.Start(settings.Listen);

        // The trash is emptied of what is older than the retention, at start and then hourly.
        _purging = new CancellationTokenSource();
        var purger = new TrashPurger(_store, settings.TrashRetention ?? TrashPurger.DefaultRetention, audit: _audit);
        _purger = purger.RunAsync(TimeSpan.FromHours(1), ex => LogPurgeFailed(_logger, ex), _purging.Token);

        // Said on standard output whatever the log level: scripts and tests read the bound ports here.
        foreach (var (endpoint, listener) in _server.Endpoints.Zip(settings.Listen))
        {
            await Console.Out.WriteLineAsync($"Listening for SMTP on {endpoint} ({listener.Role.ToString().ToLowerInvariant()})").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The server's audit stream. A server that cannot open it does not start (unless
    /// Audit:OnFailure is Continue): it would otherwise take mail unaudited from the first session.
    /// </summary>
    private async Task<FileAuditLog?> OpenAuditAsync(CancellationToken cancellationToken)
    {
        if (settings.Audit is not { Enabled: true } audit)
        {
            LogAuditOff(_logger);
            return null;
        }

        try
        {
            var log = await FileAuditLog.OpenAsync(audit.LogOptions(AuditSettings.ServerStream, TimeSpan.Zero), cancellationToken: cancellationToken).ConfigureAwait(false);
            LogAuditOn(_logger, audit.Folder, audit.Node, audit.Cipher);
            if (audit.Cipher == "caesar")
            {
                LogAuditObfuscationOnly(_logger);
            }

            return log;
        }
        catch (AuditLogException ex) when (audit.OnFailure == AuditFailurePolicy.Continue)
        {
            LogAuditUnavailable(_logger, ex);
            return null;
        }
    }

    /// <summary>A graceful stop: the listeners drain (see <see cref="SmtpServer.StopAsync"/>), then the store closes.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => DisposeAsync().AsTask();

    public async ValueTask DisposeAsync()
    {
        if (_purging is not null)
        {
            await _purging.CancelAsync().ConfigureAwait(false);
            try
            {
                await _purger!.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The purge stops with the server.
            }

            _purging.Dispose();
            _purging = null;
        }

        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
            _server = null;
        }

        // After the sessions, so their last entries (disconnects) are in; before the store, as it was opened after it.
        if (_audit is not null)
        {
            await _audit.DisposeAsync().ConfigureAwait(false);
            _audit = null;
        }

        if (_store is not null)
        {
            await _store.DisposeAsync().ConfigureAwait(false);
            _store = null;
        }

        _authenticator?.Dispose();
        _authenticator = null;
    }

    [LoggerMessage(2, LogLevel.Error, "Purging the trash failed; it is tried again in an hour")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);

    [LoggerMessage(3, LogLevel.Information, "Audit log in {Folder}, node {Node}, cipher {Cipher}")]
    private static partial void LogAuditOn(ILogger logger, string folder, string node, string cipher);

    [LoggerMessage(4, LogLevel.Warning, "The audit log is off (Audit:Enabled is false): commands are not audited")]
    private static partial void LogAuditOff(ILogger logger);

    [LoggerMessage(5, LogLevel.Warning, "The audit log's cipher is caesar: obfuscation only, anyone can read the log; use aes-256-gcm to protect it")]
    private static partial void LogAuditObfuscationOnly(ILogger logger);

    [LoggerMessage(6, LogLevel.Error, "The audit log cannot be opened; running unaudited because Audit:OnFailure is Continue")]
    private static partial void LogAuditUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(1, LogLevel.Information, "Mailroom starting: data folder {DataFolder}, store {Store}, local domains {Domains}")]
    private static partial void LogStarting(ILogger logger, string dataFolder, string store, string domains);
}
