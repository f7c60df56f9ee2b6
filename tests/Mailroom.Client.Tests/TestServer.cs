using System.Net;
using Mailroom.Core.Accounts;
using Mailroom.Server;
using Mailroom.Server.Dns;
using Mailroom.Server.Session;
using Mailroom.Server.Tls;
using Mailroom.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mailroom.Client.Tests;

/// <summary>
/// Our server on 127.0.0.1 port 0 over SQLite in a temporary folder, with the domains example.test
/// and 例子.测试 and their accounts (after tests/Mailroom.Server.Tests/Integration/LoopbackServer.cs).
/// Everything it makes goes when it is disposed.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string Password = "correct horse battery staple";
    public const string Alice = "alice@example.test";
    public const string Bob = "bob@example.test";

    private readonly Authenticator? _authenticator;

    private TestServer(string folder, SqliteMailStore store, SmtpServer server, ServerCertificates? certificates, Authenticator? authenticator)
    {
        Folder = folder;
        Store = store;
        Server = server;
        Certificates = certificates;
        _authenticator = authenticator;
    }

    public string Folder { get; }

    public SqliteMailStore Store { get; }

    public SmtpServer Server { get; }

    public ServerCertificates? Certificates { get; }

    public int Port => Server.Endpoints[0].Port;

    /// <summary>The accounts' SCRAM iteration count: low, for speed, so below the client's default floor.</summary>
    public const int ScramIterations = 1000;

    /// <summary>Trust exactly this server's self-signed certificate, and its accounts' <see cref="ScramIterations"/>.</summary>
    public SmtpClientOptions Pinned(TlsMode mode = TlsMode.StartTls) => new()
    {
        ClientName = "client.test",
        Tls = mode,
        PinnedCertificateSha256 = Certificates!.Fingerprint,
        CommandTimeout = TimeSpan.FromSeconds(30),
        MinimumScramIterations = ScramIterations,
    };

    public static async Task<TestServer> StartAsync(SmtpServerOptions? options = null, bool tls = false, ListenerRole role = ListenerRole.Smtp, bool auth = false)
    {
        options ??= new SmtpServerOptions();
        options.HostName = "mx.example.test";
        options.ReverseDnsLookup = false;
        options.LoginFailureDelay = TimeSpan.FromMilliseconds(1);
        var folder = Directory.CreateTempSubdirectory("mailroom-client-test-").FullName;
        var store = await SqliteMailStore.OpenAsync(folder, CancellationToken.None);
        await store.AddDomainAsync("example.test", CancellationToken.None);
        await store.AddDomainAsync("例子.测试", CancellationToken.None);
        var hasher = new PasswordHasher(iterations: ScramIterations);
        foreach (var user in new[] { Alice, Bob, "用户@例子.测试" })
        {
            await store.AddAccountAsync(user, hasher.Hash(Password), CancellationToken.None);
        }

        var certificates = tls || role != ListenerRole.Smtp ? ServerCertificates.SelfSigned(folder, options.HostName, NullLogger.Instance) : null;
        var authenticator = auth ? new Authenticator(store, hasher) : null;
        var server = new SmtpServer(new SmtpServices(options, store, NullLogger.Instance, NoReverseDns.Instance, certificates: certificates, authenticator: authenticator));
        server.Start([new SmtpListener(new IPEndPoint(IPAddress.Loopback, 0), role)]);
        return new TestServer(folder, store, server, certificates, authenticator);
    }

    /// <summary>The one message stored for <paramref name="mailbox"/>, as stored.</summary>
    public async Task<byte[]> StoredAsync(string mailbox)
    {
        var summary = Assert.Single(await Store.ListMessagesAsync(mailbox, CancellationToken.None));
        await using var body = await Store.OpenMessageAsync(summary.MessageId, CancellationToken.None);
        using var copy = new MemoryStream();
        await body!.CopyToAsync(copy, TestContext.Current.CancellationToken);
        return copy.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Store.DisposeAsync();
        _authenticator?.Dispose();
        Directory.Delete(Folder, recursive: true);
    }
}
