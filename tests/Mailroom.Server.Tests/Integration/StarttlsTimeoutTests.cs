namespace Mailroom.Server.Tests.Integration;

/// <summary>
/// RFC 3207 4.1 / 5: once the server has said 220 to STARTTLS, the next octets on the connection
/// belong to the TLS handshake. If the handshake never comes, the server closes without a word:
/// a 421 in clear would be read as a (broken) TLS record.
/// </summary>
public class StarttlsTimeoutTests
{
    [Fact]
    public async Task A_handshake_that_never_comes_after_the_220_ends_the_connection_without_a_reply_in_clear()
    {
        await using var server = await LoopbackServer.StartAsync(new SmtpServerOptions { TlsHandshakeTimeout = TimeSpan.FromMilliseconds(300) }, tls: true);
        await using var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.Equal(250, (await client.CommandAsync("EHLO plain.test")).Code);
        Assert.Equal(220, (await client.CommandAsync("STARTTLS")).Code);

        // No ClientHello: the server times the handshake out and closes.
        Assert.Null(await client.ReadReplyAsync());
    }
}
