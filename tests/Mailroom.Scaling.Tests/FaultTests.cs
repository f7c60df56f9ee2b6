using System.Collections.Concurrent;
using MailKit.Net.Smtp;
using Mailroom.Storage.Postgres;
using Mailroom.Testing;

namespace Mailroom.Scaling.Tests;

/// <summary>The database going away, and a node killed under load.</summary>
public sealed class FaultTests(PostgresFixture fixture)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task While_the_database_is_unreachable_nodes_answer_451_never_250_and_recover_by_themselves()
    {
        // A cluster of this test's own: stopping the shared one would fail the tests beside it.
        fixture.Require();
        await using var cluster = await PostgresCluster.StartAsync(Token);
        if (cluster is null)
        {
            PostgresFixture.RequireInstalled();
            return;
        }

        await using var set = await NodeSet.CreateAsync(cluster);
        var a = await set.StartNodeAsync();
        var b = await set.StartNodeAsync();
        await NodeSet.SendAsync(a, NodeSet.Alice, "before the outage");

        // A transaction under way when the database goes: the recipient was accepted, the commit cannot be.
        await using var midway = await LineClient.ConnectAsync(b.Endpoint);
        Assert.StartsWith("250", await midway.CommandAsync("EHLO client.test"), StringComparison.Ordinal);
        Assert.StartsWith("250", await midway.CommandAsync("MAIL FROM:<sender@remote.test>"), StringComparison.Ordinal);
        Assert.StartsWith("250", await midway.CommandAsync($"RCPT TO:<{NodeSet.Alice}>"), StringComparison.Ordinal);
        Assert.StartsWith("354", await midway.CommandAsync("DATA"), StringComparison.Ordinal);

        await cluster.StopServerAsync();

        Assert.StartsWith("451 4.3.0", await midway.CommandAsync("Subject: during the outage\r\n\r\nlost?\r\n."), StringComparison.Ordinal);

        // A new session on the other node: whatever needs the store is 451 4.3.0; the session
        // itself and the node go on.
        await using (var during = await LineClient.ConnectAsync(a.Endpoint))
        {
            Assert.StartsWith("250", await during.CommandAsync("EHLO client.test"), StringComparison.Ordinal);

            // A log-in cannot be checked: RFC 4954's temporary failure, and the session stays.
            Assert.StartsWith("454 4.7.0", await during.CommandAsync($"LOGN {NodeSet.Alice} {NodeSet.AlicePassword}"), StringComparison.Ordinal);
            var plain = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"\0{NodeSet.Alice}\0{NodeSet.AlicePassword}"));
            Assert.StartsWith("454 4.7.0", await during.CommandAsync($"AUTH PLAIN {plain}"), StringComparison.Ordinal);
            Assert.StartsWith("250", await during.CommandAsync("MAIL FROM:<sender@remote.test>"), StringComparison.Ordinal);
            Assert.StartsWith("451 4.3.0", await during.CommandAsync($"RCPT TO:<{NodeSet.Alice}>"), StringComparison.Ordinal);
            Assert.StartsWith("250", await during.CommandAsync("NOOP"), StringComparison.Ordinal);
            Assert.StartsWith("221", await during.CommandAsync("QUIT"), StringComparison.Ordinal);
        }

        Assert.False(a.HasExited);
        Assert.False(b.HasExited);

        // The database returns: both nodes take mail again without a restart. A first attempt may
        // still meet a connection from before the outage; the pool is emptied on the fault.
        await cluster.StartServerAsync();
        var after = new List<string>();
        foreach (var node in new[] { a, b })
        {
            after.Add(await SendWithRetriesAsync(node, $"after the outage through {node.Endpoint}"));
        }

        Assert.StartsWith("250", await midway.CommandAsync("NOOP"), StringComparison.Ordinal);
        await using var store = await PostgresMailStore.OpenAsync(set.StoreOptions, Token);
        var subjects = (await store.ListMessagesAsync(NodeSet.Alice, Token)).Select(m => m.Subject).ToList();
        Assert.Equal(3, subjects.Count);
        Assert.DoesNotContain("during the outage", subjects);
    }

    [Fact]
    public async Task Killing_a_node_under_load_loses_no_acknowledged_message_and_the_other_node_goes_on()
    {
        await using var set = await NodeSet.CreateAsync(fixture.Require());
        var victim = await set.StartNodeAsync();
        var survivor = await set.StartNodeAsync();
        const int SendersPerNode = 3;

        var acknowledged = new ConcurrentBag<(string Node, string Id)>();
        var afterKill = 0;
        var killed = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);

        async Task SendUntilStoppedAsync(ServerProcess node, string name, int sender)
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    using var client = await NodeSet.ConnectMailKitAsync(node);
                    while (!stop.IsCancellationRequested)
                    {
                        acknowledged.Add((name, await NodeSet.SendAsync(node, NodeSet.Alice, $"{name} sender {sender} message {i++}", client)));
                        if (Volatile.Read(ref killed) == 1 && name == "survivor")
                        {
                            Interlocked.Increment(ref afterKill);
                        }
                    }
                }
                catch (Exception exception) when (exception is IOException or SmtpProtocolException or System.Net.Sockets.SocketException or SmtpCommandException)
                {
                    // The victim died under this sender: whatever it had not answered was never accepted.
                    if (node == victim && victim.HasExited)
                    {
                        return;
                    }

                    if (exception is SmtpCommandException)
                    {
                        throw;
                    }
                }
            }
        }

        var senders = Enumerable.Range(0, SendersPerNode).SelectMany(s => new[]
        {
            SendUntilStoppedAsync(victim, "victim", s),
            SendUntilStoppedAsync(survivor, "survivor", s),
        }).ToList();

        // Kill the victim once it has acknowledged a good number of messages (no clock involved).
        while (acknowledged.Count(a => a.Node == "victim") < 60)
        {
            await Task.Delay(20, Token);
        }

        await victim.KillAsync();
        Volatile.Write(ref killed, 1);

        // The survivor goes on serving.
        while (Volatile.Read(ref afterKill) < 60)
        {
            Assert.False(senders.All(s => s.IsCompleted), "every sender stopped");
            await Task.Delay(20, Token);
        }

        await stop.CancelAsync();
        await Task.WhenAll(senders);

        await using var store = await PostgresMailStore.OpenAsync(set.StoreOptions, Token);
        var stored = (await store.ListMessagesAsync(NodeSet.Alice, Token)).Select(m => m.MessageId).ToList();
        var acked = acknowledged.Select(a => a.Id).ToList();

        // Nothing acknowledged is lost, nothing is stored twice, and at most one message per
        // victim sender (committed, its 250 not yet read when the node died) is stored unacknowledged.
        Assert.Equal(acked.Count, acked.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(stored.Count, stored.Distinct(StringComparer.Ordinal).Count());
        Assert.Empty(acked.Except(stored, StringComparer.Ordinal));
        Assert.InRange(stored.Count - acked.Count, 0, SendersPerNode);
        Assert.False(survivor.HasExited);
    }

    /// <summary>Sends, retrying a few times on 451 (a connection from before the outage); the id of the message that was accepted.</summary>
    private static async Task<string> SendWithRetriesAsync(ServerProcess node, string subject)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await NodeSet.SendAsync(node, NodeSet.Alice, subject);
            }
            catch (SmtpCommandException exception) when ((int)exception.StatusCode == 451 && attempt < 5)
            {
                await Task.Delay(200 * attempt, Token);
            }
        }
    }
}
