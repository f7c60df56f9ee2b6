using System.Text.Json;
using System.Text.RegularExpressions;
using MailKit.Net.Smtp;
using Mailroom.Core.Accounts;
using Mailroom.Storage.Postgres;
using Mailroom.Testing;
using MimeKit;

namespace Mailroom.Scaling.Tests;

/// <summary>
/// Several <c>mailroom serve</c> processes on one PostgreSQL database, as docs/SCALING.md sets
/// them up: the schema made once with <c>mailroom db migrate</c>, then nodes with their own data
/// folders (audit log, certificate, spool) and node names. Removes the processes, the database
/// and the folders afterwards.
/// </summary>
internal sealed partial class NodeSet : IAsyncDisposable
{
    public const string Domain = "example.test";
    public const string Alice = "alice@example.test";
    public const string AlicePassword = "alice-Pa55word";

    private readonly PostgresCluster _cluster;
    private readonly List<ServerProcess> _nodes = [];

    private NodeSet(PostgresCluster cluster, string folder, string connectionString)
    {
        _cluster = cluster;
        Folder = folder;
        ConnectionString = connectionString;
        ConfigFile = Path.Combine(folder, "mailroom.json");
    }

    public string Folder { get; }

    public string ConnectionString { get; }

    /// <summary>A configuration file naming the store, as an administrator's would.</summary>
    public string ConfigFile { get; }

    public IReadOnlyList<ServerProcess> Nodes => _nodes;

    public PostgresStoreOptions StoreOptions => new() { ConnectionString = ConnectionString, SpoolDirectory = Path.Combine(Folder, "test-spool") };

    /// <summary>A fresh database with the schema migrated (by the real <c>mailroom db migrate</c>) and alice in it; no node started yet.</summary>
    public static async Task<NodeSet> CreateAsync(PostgresCluster cluster)
    {
        var folder = Directory.CreateTempSubdirectory("mailroom-nodes-").FullName;
        var set = new NodeSet(cluster, folder, await cluster.CreateDatabaseAsync());
        try
        {
            await File.WriteAllTextAsync(set.ConfigFile, JsonSerializer.Serialize(new { Store = new { Provider = "postgres", set.ConnectionString } }));
            var migrate = await MailroomCli.RunAsync("db", "migrate", "--config", set.ConfigFile, "--data", set.AdminFolder);
            Assert.True(migrate.ExitCode == 0, migrate.Error);
            Assert.Contains("from schema version 0 to", migrate.Output, StringComparison.Ordinal);
            await using var store = await PostgresMailStore.OpenAsync(set.StoreOptions, CancellationToken.None);
            await store.AddDomainAsync(Domain, CancellationToken.None);
            await store.AddAccountAsync(Alice, new PasswordHasher(iterations: 1000).Hash(AlicePassword), CancellationToken.None);
            return set;
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }
    }

    /// <summary>The data folder an administrator's commands use on the side (not a node's).</summary>
    public string AdminFolder => Path.Combine(Folder, "admin");

    public string NodeFolder(int index) => Path.Combine(Folder, NodeName(index));

    public static string NodeName(int index) => $"node-{(char)('a' + index)}";

    /// <summary>Starts one more node, with its own data folder and node name, on the database.</summary>
    public async Task<ServerProcess> StartNodeAsync()
    {
        var index = _nodes.Count;
        var node = await ServerProcess.StartAsync(NodeFolder(index), Domain, NodeEnvironment(ConnectionString, NodeName(index)));
        _nodes.Add(node);
        return node;
    }

    public static Dictionary<string, string> NodeEnvironment(string connectionString, string node) => new()
    {
        ["MAILROOM__Store__Provider"] = "postgres",
        ["MAILROOM__Store__ConnectionString"] = connectionString,
        ["MAILROOM__Audit__Node"] = node,
        ["MAILROOM__Smtp__MailboxCommandsOnMx"] = "true",
        ["MAILROOM__Smtp__AllowPlaintextAuthOnLoopback"] = "true",
        ["MAILROOM__Smtp__MaxConnectionsPerAddress"] = "1000",
    };

    /// <summary>Sends one message with MailKit to the node's MX listener; returns the id in the 250 reply.</summary>
    public static async Task<string> SendAsync(ServerProcess node, string to, string subject, SmtpClient? reuse = null)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("sender@remote.test"));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = $"Body of {subject}\r\n" };
        if (reuse is not null)
        {
            return QueueId(await reuse.SendAsync(message, TestContext.Current.CancellationToken));
        }

        using var client = await ConnectMailKitAsync(node);
        var reply = await client.SendAsync(message, TestContext.Current.CancellationToken);
        await client.DisconnectAsync(quit: true, TestContext.Current.CancellationToken);
        return QueueId(reply);
    }

    public static async Task<SmtpClient> ConnectMailKitAsync(ServerProcess node)
    {
        var client = new SmtpClient();
        await client.ConnectAsync(node.Endpoint.Address.ToString(), node.Endpoint.Port, MailKit.Security.SecureSocketOptions.None, TestContext.Current.CancellationToken);
        return client;
    }

    public static string QueueId(string reply)
    {
        var match = QueuedAs().Match(reply);
        Assert.True(match.Success, $"no id in the reply '{reply}'");
        return match.Groups[1].Value;
    }

    /// <summary>Every node stopped, the database dropped and the folder removed, whichever of them fails.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var node in _nodes)
            {
                try
                {
                    await node.DisposeAsync();
                }
                catch (Exception exception) when (exception is InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // Gone already; the others still go.
                }
            }

            try
            {
                await _cluster.DropDatabaseAsync(ConnectionString);
            }
            catch (Npgsql.NpgsqlException)
            {
                // The cluster of a fault test may be gone already; its folder goes with it.
            }
        }
        finally
        {
            Directory.Delete(Folder, recursive: true);
        }
    }

    [GeneratedRegex(@"queued as (\S+)")]
    private static partial Regex QueuedAs();
}
