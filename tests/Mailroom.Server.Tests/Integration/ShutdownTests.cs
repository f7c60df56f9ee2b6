using System.Net.Sockets;

namespace Mailroom.Server.Tests.Integration;

/// <summary>Shutting a real server down: transfers get the grace period, and no more.</summary>
public class ShutdownTests
{
    /// <summary>
    /// <see cref="SmtpServer.StopAsync"/> waits for a DATA transfer in progress only for
    /// <see cref="SmtpServerOptions.ShutdownGracePeriod"/>: a client still sending when it ends
    /// is cut (421 or a closed connection), the stop completes, and nothing of the message is kept.
    /// </summary>
    [Fact]
    public async Task Stop_cuts_a_transfer_still_running_when_the_grace_period_ends_and_stores_nothing()
    {
        var options = new SmtpServerOptions { ShutdownGracePeriod = TimeSpan.FromSeconds(1) };
        await using var server = await LoopbackServer.StartAsync(options);
        await using var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.Equal(250, (await client.CommandAsync("EHLO slow.sender")).Code);
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<s@remote.test>")).Code);
        Assert.Equal(250, (await client.CommandAsync("RCPT TO:<alice@example.test>")).Code);
        Assert.Equal(354, (await client.CommandAsync("DATA")).Code);
        await client.SendAsync("Subject: never finished\r\n\r\n");

        // The client keeps sending, a line at a time, and never ends the message.
        using var stopSending = new CancellationTokenSource();
        var sender = Task.Run(async () =>
        {
            try
            {
                while (!stopSending.IsCancellationRequested)
                {
                    await client.SendAsync("still sending\r\n");
                    await Task.Delay(50, stopSending.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // Cut by the server, or stopped by the test.
            }
        }, TestContext.Current.CancellationToken);

        try
        {
            // A hang guard, not a speed limit: a grace period that never ends never gets here.
            await server.Server.StopAsync().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }
        finally
        {
            await stopSending.CancelAsync();
            await sender;
        }

        try
        {
            var last = await client.ReadReplyAsync();
            Assert.True(last is null || last.Code == 421, $"the cut transfer got {last}");
        }
        catch (IOException)
        {
            // The connection was reset: cut, too.
        }

        Assert.Empty(await server.Store.ListMessagesAsync("alice@example.test", CancellationToken.None));
    }
}
