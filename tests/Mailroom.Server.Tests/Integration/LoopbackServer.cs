using System.Net;
using Mailroom.Core.Accounts;
using Mailroom.Server.Dns;
using Mailroom.Server.Session;
using Mailroom.Server.Tls;
using Mailroom.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mailroom.Server.Tests.Integration;

/// <summary>
/// A real server on 127.0.0.1 port 0 over a real SQLite store in a temporary folder, with the
/// domain example.test and the accounts alice and bob. Everything it makes goes when it is disposed.
/// </summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    private LoopbackServer(string folder, SqliteMailStore store, SmtpServer server, SmtpServerOptions options)
    {
        Folder = folder;
        Store = store;
        Server = server;
        Options = options;
    }

    public string Folder { get; }

    public SqliteMailStore Store { get; }

    public SmtpServer Server { get; }

    public SmtpServerOptions Options { get; }

    public IPEndPoint Endpoint => Server.Endpoints[0];

    public int Port => Endpoint.Port;

    /// <summary>The server's TLS certificate (self-signed, made in the temporary folder), when started with TLS.</summary>
    public ServerCertificates? Certificates { get; private init; }

    /// <summary>The password of every test account.</summary>
    public const string Password = "correct horse battery staple";

    /// <param name="options">Server settings; the host name and reverse DNS are set here.</param>
    /// <param name="tls">Give the server a (self-signed) certificate, so STARTTLS is offered.</param>
    /// <param name="role">The listener's role; <see cref="ListenerRole.Submissions"/> implies TLS.</param>
    /// <param name="auth">Check passwords, so AUTH and LOGN are offered (under TLS).</param>
    /// <param name="logger">Where the server logs; nowhere by default.</param>
    /// <param name="audit">Where the server's audit events go; nowhere by default.</param>
    public static async Task<LoopbackServer> StartAsync(SmtpServerOptions? options = null, bool tls = false, ListenerRole role = ListenerRole.Smtp, bool auth = false, Microsoft.Extensions.Logging.ILogger? logger = null, Mailroom.Core.Audit.IAuditLog? audit = null)
    {
        options ??= new SmtpServerOptions();
        options.HostName = "mx.example.test";
        options.ReverseDnsLookup = false;
        var folder = Directory.CreateTempSubdirectory("mailroom-test-").FullName;
        var store = await SqliteMailStore.OpenAsync(folder, CancellationToken.None);
        await store.AddDomainAsync("example.test", CancellationToken.None);
        await store.AddDomainAsync("例子.测试", CancellationToken.None);
        var hasher = new PasswordHasher(iterations: 4096);
        foreach (var user in new[] { "alice@example.test", "bob@example.test", "用户@例子.测试" })
        {
            await store.AddAccountAsync(user, hasher.Hash(Password), CancellationToken.None);
        }

        var certificates = tls || role != ListenerRole.Smtp ? ServerCertificates.SelfSigned(folder, options.HostName, NullLogger.Instance) : null;
        var authenticator = auth ? new Authenticator(store, hasher) : null;
        var server = new SmtpServer(new SmtpServices(options, store, logger ?? NullLogger.Instance, NoReverseDns.Instance, certificates: certificates, authenticator: authenticator, audit: audit));
        server.Start([new SmtpListener(new IPEndPoint(IPAddress.Loopback, 0), role)]);
        return new LoopbackServer(folder, store, server, options) { Certificates = certificates };
    }

    /// <summary>MailKit's client, trusting this server's self-signed certificate by its fingerprint and nothing else.</summary>
    public MailKit.Net.Smtp.SmtpClient PinnedMailKitClient() => new()
    {
        ServerCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && Convert.ToHexString(certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256)) == Certificates!.Fingerprint,
    };

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Store.DisposeAsync();
        Directory.Delete(Folder, recursive: true);
    }
}
