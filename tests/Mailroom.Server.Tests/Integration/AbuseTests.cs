using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mailroom.Server.Tests.Integration;

/// <summary>Clients that misuse the server on purpose, over real loopback TCP (issue 9, item 4).</summary>
public class AbuseTests
{
    /// <summary>
    /// A client that pipelines command after command and never reads a reply: the server writes
    /// each reply before it reads further (RFC 2920 3.1 lets it), so once the kernel's buffers
    /// are full it stops reading, TCP stops the client, and the server holds no more than its
    /// buffers. Without that, the server would read everything and keep the replies in memory.
    /// </summary>
    [Fact]
    public async Task A_client_pipelining_megabytes_without_reading_replies_is_held_back_by_tcp()
    {
        var options = new SmtpServerOptions { MaxJunkCommands = int.MaxValue, CommandTimeout = TimeSpan.FromSeconds(30) };
        await using var server = await LoopbackServer.StartAsync(options);
        using var flood = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await flood.ConnectAsync(server.Endpoint, TestContext.Current.CancellationToken);

        // 64 MiB of NOOPs, in 64 KiB writes; a write that makes no progress for 2 s means TCP holds the client back.
        const long Total = 64L * 1024 * 1024;
        var chunk = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("NOOP\r\n", 64 * 1024 / 6)));
        long written = 0;
        var stalled = false;
        while (written < Total)
        {
            using var stall = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                written += await flood.SendAsync(chunk, SocketFlags.None, stall.Token);
            }
            catch (OperationCanceledException) when (stall.IsCancellationRequested)
            {
                stalled = true;
                break;
            }
        }

        // What got through is what the kernel's buffers on both sides hold (a few MiB on
        // loopback, 4 MiB and 6 MiB at most with Linux's default autotuning), plus what the server
        // consumed while its replies still fitted in them; far from all of it.
        Assert.True(stalled, $"the client wrote all {written:N0} octets without being held back");
        Assert.InRange(written, 1, Total / 2);

        // Meanwhile the server serves everyone else.
        await using var other = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await other.ReadReplyAsync())!.Code);
        Assert.Equal(250, (await other.CommandAsync("EHLO other.test")).Code);
        Assert.Equal(221, (await other.CommandAsync("QUIT")).Code);
    }

    /// <summary>
    /// Clients that trickle a byte at a time on many connections (slowloris) hold only their own
    /// sessions: each waits for its line without a thread, and a normal client is served in full
    /// while they all stay connected.
    /// </summary>
    [Fact]
    public async Task Clients_trickling_bytes_on_many_connections_do_not_starve_a_normal_client()
    {
        var options = new SmtpServerOptions { MaxConnectionsPerAddress = 1000, CommandTimeout = TimeSpan.FromSeconds(60) };
        await using var server = await LoopbackServer.StartAsync(options);
        var slow = new List<RawClient>();
        using var stop = new CancellationTokenSource();
        try
        {
            for (var i = 0; i < 200; i++)
            {
                var client = await RawClient.ConnectAsync(server.Endpoint, IPAddress.Parse("127.0.0.2"));
                slow.Add(client);
                Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
            }

            // Every slow client sends "EHLO " one octet at a time, forever, and never ends the line.
            var trickle = Task.Run(
                async () =>
                {
                    var line = "EHLO a-very-slow-client.example"u8.ToArray();
                    for (var at = 0; !stop.IsCancellationRequested; at = (at + 1) % line.Length)
                    {
                        foreach (var client in slow)
                        {
                            await client.SendAsync(line.AsMemory(at, 1));
                        }

                        await Task.Delay(20, stop.Token);
                    }
                },
                stop.Token);

            // A normal client from another address does a whole transaction meanwhile.
            await NormalClient.DeliversAsync(server, "while 200 clients trickle");
            Assert.False(trickle.IsFaulted, "a slow client's connection was closed while it was still within its timeout");

            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => trickle);
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var client in slow)
            {
                await client.DisposeAsync();
            }
        }

        Assert.Single(await server.Store.ListMessagesAsync("alice@example.test", CancellationToken.None));
    }
}

/// <summary>
/// Tests that count the process's thread-pool threads run alone, so that other tests' work
/// cannot make the pool grow or shrink under them.
/// </summary>
[CollectionDefinition(DisableParallelization = true)]
public sealed class CountsThreads;

/// <summary>Idle clients cost the server no thread, whatever their number.</summary>
[Collection(typeof(CountsThreads))]
public class IdleThreadTests
{
    /// <summary>
    /// 200 clients are greeted; then half say nothing (the session waits in its idle wait) and
    /// half send half a command line (it waits in the read of the rest). Both waits must be
    /// asynchronous: a session blocking a thread while it waits makes the thread pool inject a
    /// thread for each of them (the pool must grow for the next session to be greeted at all), so
    /// counting the pool's threads tells. A normal client is served meanwhile.
    /// </summary>
    [Fact]
    public async Task Clients_silent_or_halfway_through_a_line_on_many_connections_hold_no_thread()
    {
        var options = new SmtpServerOptions { MaxConnectionsPerAddress = 1000, CommandTimeout = TimeSpan.FromSeconds(60) };
        await using var server = await LoopbackServer.StartAsync(options);
        var waiting = new List<RawClient>();
        try
        {
            var before = ThreadPool.ThreadCount;
            for (var i = 0; i < 200; i++)
            {
                var client = await RawClient.ConnectAsync(server.Endpoint, IPAddress.Parse("127.0.0.2"));
                waiting.Add(client);
                Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
                if (i % 2 == 1)
                {
                    await client.SendAsync("EHLO half-a-li");
                }

                // Checked as they come, so a server that blocks fails here and does not wait for
                // the pool's slow injection to reach all 200.
                var grown = ThreadPool.ThreadCount - before;
                Assert.True(grown <= 50, $"the thread pool grew by {grown} threads ({before} to {ThreadPool.ThreadCount}) for {i + 1} waiting sessions");
            }

            await NormalClient.DeliversAsync(server, "while 200 clients wait");
        }
        finally
        {
            foreach (var client in waiting)
            {
                await client.DisposeAsync();
            }
        }
    }
}

/// <summary>A client from an address of its own (127.0.0.3) that must still be served whatever the others do.</summary>
internal static class NormalClient
{
    /// <summary>One whole transaction, every reply as it should be.</summary>
    public static async Task DeliversAsync(LoopbackServer server, string meanwhile)
    {
        await using var normal = await RawClient.ConnectAsync(server.Endpoint, IPAddress.Parse("127.0.0.3"));
        Assert.Equal(220, (await normal.ReadReplyAsync())!.Code);
        Assert.Equal(250, (await normal.CommandAsync("EHLO normal.test")).Code);
        Assert.Equal(250, (await normal.CommandAsync("MAIL FROM:<a@remote.test>")).Code);
        Assert.Equal(250, (await normal.CommandAsync("RCPT TO:<alice@example.test>")).Code);
        Assert.Equal(354, (await normal.CommandAsync("DATA")).Code);
        Assert.Equal(250, (await normal.CommandAsync($"Subject: served\r\n\r\n{meanwhile}\r\n.")).Code);
        Assert.Equal(221, (await normal.CommandAsync("QUIT")).Code);
    }
}
