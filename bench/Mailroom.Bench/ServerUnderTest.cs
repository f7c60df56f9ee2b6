using System.Net;
using Mailroom.Core.Accounts;
using Mailroom.Core.Audit;
using Mailroom.Core.Storage;
using Mailroom.Storage.Sqlite;
using Mailroom.Testing;

namespace Mailroom.Bench;

/// <summary>One <c>mailroom serve</c> process of the bench's, on its own data folder (audit log, TLS certificate, spool).</summary>
public sealed record ServerNode(string Name, ServerProcess Process, string Folder)
{
    public IPEndPoint Endpoint => Process.Endpoint;
}

/// <summary>
/// The server the bench starts: one <c>mailroom serve</c> on SQLite, or N of them on one
/// PostgreSQL database in a throwaway cluster. Each is its own process so that its CPU time and
/// memory can be read apart from the load generator's. Everything started is stopped and every
/// folder removed on dispose, and on a failed start.
/// </summary>
public sealed class ServerUnderTest : IAsyncDisposable
{
    private readonly List<ServerNode> _nodes = [];
    private readonly List<string> _folders = [];

    private ServerUnderTest(string store)
    {
        Store = store;
    }

    /// <summary>"sqlite" or "postgres".</summary>
    public string Store { get; }

    public IReadOnlyList<ServerNode> Nodes => _nodes;

    /// <summary>The PostgreSQL server, with <c>--store postgres</c>.</summary>
    public DatabaseUnderTest? Database { get; private set; }

    public string Describe() => Database is null
        ? $"mailroom serve (SQLite) on {Nodes[0].Endpoint}"
        : $"{Nodes.Count} x mailroom serve on {Database.Describe()}: {string.Join(", ", Nodes.Select(n => $"{n.Name} {n.Endpoint}"))}";

    /// <param name="settings">Further MAILROOM__ settings for every node, over the bench's own (the memory runs raise the connection and message size limits).</param>
    public static async Task<ServerUnderTest> StartAsync(string store, int nodes, IEnumerable<string> recipients, string audit, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? settings = null)
    {
        if (store != "postgres" && nodes != 1)
        {
            throw new ArgumentException("More than one node needs --store postgres: SQLite nodes cannot share a store.", nameof(nodes));
        }

        var server = new ServerUnderTest(store);
        try
        {
            await server.StartNodesAsync(nodes, recipients.ToArray(), audit, settings, cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task StartNodesAsync(int count, string[] recipients, string audit, IReadOnlyDictionary<string, string>? settings, CancellationToken cancellationToken)
    {
        var folders = Enumerable.Range(0, count).Select(_ => NewFolder("mailroom-bench-")).ToArray();
        var environment = Environment(audit, folders[0]);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }
        if (Store == "postgres")
        {
            Database = await DatabaseUnderTest.StartAsync(cancellationToken);
            await using (var seeding = await Database.MigrateAndOpenAsync(Path.Combine(NewFolder("mailroom-bench-seed-"), "spool"), cancellationToken))
            {
                await SeedAsync(seeding, recipients, cancellationToken);
            }

            environment["MAILROOM__Store__Provider"] = "postgres";
            environment["MAILROOM__Store__ConnectionString"] = Database.ConnectionString;
        }
        else
        {
            await using var seeding = await SqliteMailStore.OpenAsync(folders[0], cancellationToken);
            await SeedAsync(seeding, recipients, cancellationToken);
        }

        for (var i = 0; i < count; i++)
        {
            var name = $"node-{i}";
            environment["MAILROOM__Audit__Node"] = name;
            var process = await ServerProcess.StartAsync(folders[i], LoadRun.Domain, environment);
            _nodes.Add(new ServerNode(name, process, folders[i]));
        }
    }

    /// <summary>
    /// The end of every node's log (the nodes log at Warning and above, so each line is a
    /// problem) and of the PostgreSQL server's problems: the evidence behind errors in the report,
    /// read before the folders go.
    /// </summary>
    public string Diagnostics(int linesEach)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var node in _nodes)
        {
            var lines = node.Process.Output.Where(l => !l.StartsWith("Listening for ", StringComparison.Ordinal)).ToArray();
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"--- {node.Name} log: {lines.Length} lines, the last {Math.Min(linesEach, lines.Length)}:\n");
            foreach (var line in lines.TakeLast(linesEach))
            {
                sb.Append(line).Append('\n');
            }
        }

        if (Database is not null)
        {
            sb.Append("--- PostgreSQL log, WARNING and above, the last ones:\n");
            foreach (var line in Database.LogProblems(linesEach))
            {
                sb.Append(line).Append('\n');
            }
        }

        return sb.ToString();
    }

    private string NewFolder(string prefix)
    {
        var folder = Directory.CreateTempSubdirectory(prefix).FullName;
        _folders.Add(folder);
        return folder;
    }

    private static async Task SeedAsync(IMailStore store, string[] recipients, CancellationToken cancellationToken)
    {
        await store.AddDomainAsync(LoadRun.Domain, cancellationToken);
        var hasher = new PasswordHasher(iterations: 1000);
        foreach (var address in recipients)
        {
            await store.AddAccountAsync(address, hasher.Hash("bench"), cancellationToken);
        }
    }

    /// <summary>
    /// The settings every node shares. An encrypted audit log's key file is in the first node's
    /// folder; every node reads the same one.
    /// </summary>
    private static Dictionary<string, string> Environment(string audit, string keyFolder)
    {
        var environment = new Dictionary<string, string>
        {
            ["MAILROOM__Smtp__MaxConnectionsPerAddress"] = "100000",
            ["MAILROOM__Smtp__MaxJunkCommands"] = "100000",
            ["MAILROOM__Logging__LogLevel__Default"] = "Warning",
        };
        switch (audit)
        {
            case "off":
                environment["MAILROOM__Audit__Enabled"] = "false";
                break;
            case "encrypted":
                var key = Path.Combine(keyFolder, "audit.key");
                AuditKeys.CreateKeyFile(key);
                environment["MAILROOM__Audit__Cipher"] = "aes-256-gcm";
                environment["MAILROOM__Audit__KeyFile"] = key;
                break;
            case "on":
                break;
            default:
                throw new ArgumentException($"--audit '{audit}' is not on, encrypted or off.", nameof(audit));
        }

        return environment;
    }

    /// <summary>
    /// Stops the nodes first (they hold connections to the database), then the cluster, then
    /// removes the folders; a failure in one step does not skip the others.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var failures = new List<Exception>();
        foreach (var node in _nodes)
        {
            await Try(() => node.Process.DisposeAsync().AsTask());
        }

        _nodes.Clear();
        if (Database is not null)
        {
            await Try(() => Database.DisposeAsync().AsTask());
        }

        foreach (var folder in _folders)
        {
            await Try(() =>
            {
                Directory.Delete(folder, recursive: true);
                return Task.CompletedTask;
            });
        }

        _folders.Clear();
        if (failures.Count > 0)
        {
            throw new AggregateException("The bench could not clean up everything it started.", failures);
        }

        async Task Try(Func<Task> step)
        {
            try
            {
                await step();
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }
    }
}
