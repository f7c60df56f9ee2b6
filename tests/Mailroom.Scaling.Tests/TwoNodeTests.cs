using System.Text;
using System.Text.Json;
using Mailroom.Client;
using Mailroom.Storage.Postgres;
using Mailroom.Testing;

namespace Mailroom.Scaling.Tests;

/// <summary>Two <c>mailroom serve</c> processes on one PostgreSQL database behave as one server.</summary>
public sealed class TwoNodeTests(PostgresFixture fixture)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_node_refuses_a_schema_it_does_not_know_and_says_what_to_do()
    {
        var cluster = fixture.Require();
        var folder = Directory.CreateTempSubdirectory("mailroom-schema-").FullName;
        var connectionString = await cluster.CreateDatabaseAsync();
        try
        {
            var config = Path.Combine(folder, "mailroom.json");
            await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new { Store = new { Provider = "postgres", ConnectionString = connectionString } }), Token);

            var status = await MailroomCli.RunAsync("db", "status", "--config", config, "--data", folder);
            Assert.Equal(65, status.ExitCode);
            Assert.Contains("schema version: 0", status.Output, StringComparison.Ordinal);
            Assert.Contains("run `mailroom db migrate`", status.Output, StringComparison.Ordinal);

            // An empty database: the node does not create the schema under other nodes by itself.
            var empty = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(Path.Combine(folder, "node"), NodeSet.Domain, NodeSet.NodeEnvironment(connectionString, "node-a")));
            Assert.Contains("mailroom db migrate", empty.Message, StringComparison.Ordinal);

            var migrate = await MailroomCli.RunAsync("db", "migrate", "--config", config, "--data", folder);
            Assert.Equal(0, migrate.ExitCode);
            Assert.Contains($"from schema version 0 to {PostgresMailStore.SchemaVersion}", migrate.Output, StringComparison.Ordinal);
            var again = await MailroomCli.RunAsync("db", "migrate", "--config", config, "--data", folder);
            Assert.Equal(0, again.ExitCode);
            Assert.Contains("already", again.Output, StringComparison.Ordinal);
            Assert.Equal(0, (await MailroomCli.RunAsync("db", "status", "--config", config, "--data", folder)).ExitCode);

            // A schema from a later Mailroom: this one must not run on it.
            await using (var connection = new Npgsql.NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync(Token);
                await using var command = new Npgsql.NpgsqlCommand("INSERT INTO schema_version (version, applied_utc) VALUES (99, now());", connection);
                await command.ExecuteNonQueryAsync(Token);
            }

            var newer = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(Path.Combine(folder, "node"), NodeSet.Domain, NodeSet.NodeEnvironment(connectionString, "node-a")));
            Assert.Contains("version 99", newer.Message, StringComparison.Ordinal);
            Assert.Contains("upgrade Mailroom", newer.Message, StringComparison.Ordinal);
        }
        finally
        {
            try
            {
                await cluster.DropDatabaseAsync(connectionString);
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary>
    /// User enumeration across nodes: a real account's SCRAM salt is stored, so every node gives
    /// the same one. An unknown user's salt must be the same from every node too, or asking two
    /// nodes would tell the two apart (docs/SECURITY.md).
    /// </summary>
    [Fact]
    public async Task Every_node_gives_an_unknown_user_the_same_scram_salt_as_a_real_account_gets()
    {
        await using var set = await NodeSet.CreateAsync(fixture.Require());
        var a = await set.StartNodeAsync();
        var b = await set.StartNodeAsync();

        foreach (var user in new[] { NodeSet.Alice, "nobody@example.test" })
        {
            var onA = await ScramSaltAsync(a, user);
            var onB = await ScramSaltAsync(b, user);
            Assert.True(onA == onB, $"{user}: salt {onA} from node A, {onB} from node B");
        }

        Assert.NotEqual(await ScramSaltAsync(a, NodeSet.Alice), await ScramSaltAsync(b, "nobody@example.test"));
    }

    /// <summary>The salt (base64) in the server-first message of a SCRAM-SHA-256 exchange, which is then abandoned.</summary>
    private static async Task<string> ScramSaltAsync(ServerProcess node, string user)
    {
        await using var client = await LineClient.ConnectAsync(node.Endpoint);
        Assert.StartsWith("250", await client.CommandAsync("EHLO client.test"), StringComparison.Ordinal);
        var reply = await client.CommandAsync("AUTH SCRAM-SHA-256 " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"n,,n={user},r=clientnonce")));
        Assert.StartsWith("334 ", reply, StringComparison.Ordinal);
        var serverFirst = Encoding.UTF8.GetString(Convert.FromBase64String(reply[4..]));
        var salt = serverFirst.Split(',').Single(p => p.StartsWith("s=", StringComparison.Ordinal))[2..];
        Assert.StartsWith("501", await client.CommandAsync("*"), StringComparison.Ordinal);
        return salt;
    }

    [Fact]
    public async Task Mail_flags_deletions_and_admin_changes_made_through_one_node_count_on_the_other_at_once()
    {
        await using var set = await NodeSet.CreateAsync(fixture.Require());
        var a = await set.StartNodeAsync();
        var b = await set.StartNodeAsync();

        // Mail accepted by A is readable through B at once.
        var id = await NodeSet.SendAsync(a, NodeSet.Alice, "through node A");
        await using (var onB = await LogInAsync(b, NodeSet.Alice, NodeSet.AlicePassword))
        {
            Assert.Equal(1, (await onB.OpenMailboxAsync(NodeSet.Alice, Token)).Messages);
            var message = await onB.NextAsync(Token);
            Assert.NotNull(message);
            Assert.Equal(id, message.Id);
            Assert.Contains("Subject: through node A", Encoding.UTF8.GetString(message.Content), StringComparison.Ordinal);
            Assert.Contains("important", await onB.FlagAsync(MailFlag.Important, on: true, Token), StringComparison.Ordinal);
        }

        // The flag set through B shows through A; a deletion through A counts on B.
        await using (var onA = await LogInAsync(a, NodeSet.Alice, NodeSet.AlicePassword))
        {
            await onA.OpenMailboxAsync(NodeSet.Alice, Token);
            var listed = Assert.Single(await onA.ListAsync(Token));
            Assert.Equal(id, listed.Id);
            Assert.Contains("important", listed.Flags, StringComparison.Ordinal);
            Assert.NotNull(await onA.NextAsync(Token));
            Assert.Equal(1, await onA.DeleteCurrentAsync(Token));
        }

        await using (var onB = await LogInAsync(b, NodeSet.Alice, NodeSet.AlicePassword))
        {
            Assert.Equal(0, (await onB.OpenMailboxAsync(NodeSet.Alice, Token)).Messages);
        }

        // Admin changes while both run, through node A's data folder (the store settings it left
        // there, no configuration given): a new user, a list and its member, a right granted.
        const string Bob = "bob@example.test";
        const string BobPassword = "bob-Pa55word";
        var addBob = await MailroomCli.RunProcessAsync(BobPassword, "user", "add", Bob, "--password-stdin", "--data", set.NodeFolder(0));
        Assert.True(addBob.ExitCode == 0, addBob.Error);
        await NodeSet.SendAsync(b, Bob, "to the new user through node B");

        Assert.Equal(0, (await MailroomCli.RunAsync("list", "add", "team@example.test", "--policy", "anyone", "--data", set.NodeFolder(0))).ExitCode);
        Assert.Equal(0, (await MailroomCli.RunAsync("list", "member", "add", "team@example.test", Bob, "--data", set.NodeFolder(0))).ExitCode);
        await NodeSet.SendAsync(b, "team@example.test", "to the new list through node B");

        Assert.Equal(0, (await MailroomCli.RunAsync("mailbox", "add", "support@example.test", "--data", set.NodeFolder(1))).ExitCode);
        await NodeSet.SendAsync(a, "support@example.test", "to support through node A");
        await using (var bobOnA = await LogInAsync(a, Bob, BobPassword))
        {
            Assert.Equal(2, (await bobOnA.OpenMailboxAsync(Bob, Token)).Messages);
            await Assert.ThrowsAsync<SmtpCommandException>(() => bobOnA.OpenMailboxAsync("support@example.test", Token));
            Assert.Equal(0, (await MailroomCli.RunAsync("mailbox", "grant", "support@example.test", Bob, "r", "--data", set.NodeFolder(1))).ExitCode);
            Assert.Equal(1, (await bobOnA.OpenMailboxAsync("support@example.test", Token)).Messages);
        }

        // Each node's audit log names the node; `audit show` merges both in time order.
        foreach (var node in set.Nodes)
        {
            await node.TerminateAsync();
            Assert.Equal(0, await node.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }

        var show = await MailroomCli.RunAsync(
            "audit", "show", "--data", set.NodeFolder(0), "--log", Path.Combine(set.NodeFolder(0), "audit"), "--log", Path.Combine(set.NodeFolder(1), "audit"), "--event", "message", "--json");
        Assert.True(show.ExitCode == 0, show.Error);
        var entries = show.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(["node-a", "node-b", "node-b", "node-a"], entries.Select(e => e.GetProperty("node").GetString()));
        var times = entries.Select(e => e.GetProperty("ts").GetString()!).ToList();
        Assert.Equal(times.Order(StringComparer.Ordinal), times);
    }

    [Fact]
    public async Task Two_nodes_taking_mail_for_one_mailbox_at_once_lose_nothing_and_duplicate_nothing()
    {
        await using var set = await NodeSet.CreateAsync(fixture.Require());
        var nodes = new[] { await set.StartNodeAsync(), await set.StartNodeAsync() };
        const int SendersPerNode = 4;
        const int MessagesPerSender = 15;

        var acknowledged = await Task.WhenAll(Enumerable.Range(0, nodes.Length * SendersPerNode).Select(async sender =>
        {
            var node = nodes[sender % nodes.Length];
            using var client = await NodeSet.ConnectMailKitAsync(node);
            var ids = new List<string>();
            for (var i = 0; i < MessagesPerSender; i++)
            {
                ids.Add(await NodeSet.SendAsync(node, NodeSet.Alice, $"sender {sender} message {i}", client));
            }

            await client.DisconnectAsync(quit: true, Token);
            return ids;
        }));

        var sent = acknowledged.SelectMany(ids => ids).ToList();
        Assert.Equal(nodes.Length * SendersPerNode * MessagesPerSender, sent.Distinct(StringComparer.Ordinal).Count());
        await using var store = await PostgresMailStore.OpenAsync(set.StoreOptions, Token);
        var stored = (await store.ListMessagesAsync(NodeSet.Alice, Token)).Select(m => m.MessageId).ToList();
        Assert.Equal(sent.Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
    }

    private static async Task<SmtpConnection> LogInAsync(ServerProcess node, string user, string password)
    {
        var connection = await SmtpConnection.ConnectAsync(node.Endpoint.Address.ToString(), node.Endpoint.Port, new SmtpClientOptions { Tls = TlsMode.None }, Token);
        await connection.LogInAsync(user, password, Token);
        return connection;
    }
}
