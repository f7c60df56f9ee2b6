using System.Net.Sockets;
using System.Text;

namespace Mailroom.Server.Tests.Integration;

/// <summary>The original design's Caesar "encryption": opt-in, never with TLS, and plainly labelled as protecting nothing.</summary>
public class CaesarTests
{
    [Fact]
    public async Task Caesar_is_neither_offered_nor_accepted_unless_enabled()
    {
        await using var server = await LoopbackServer.StartAsync(tls: true);
        await using var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.DoesNotContain("XCAESAR", (await client.CommandAsync("EHLO old.client")).Lines);
        Assert.Equal(502, (await client.CommandAsync("XCAESAR 3")).Code);
        Assert.Equal(250, (await client.CommandAsync("NOOP")).Code);
    }

    [Fact]
    public async Task Caesar_is_never_offered_once_tls_is_on()
    {
        await using var server = await LoopbackServer.StartAsync(new SmtpServerOptions { AllowCaesarObfuscation = true }, tls: true);
        await using var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal(220, (await client.ReadReplyAsync())!.Code);
        Assert.Contains("XCAESAR", (await client.CommandAsync("EHLO old.client")).Lines);
        Assert.Equal(220, (await client.CommandAsync("STARTTLS")).Code);
        await client.StartTlsAsync(server.Certificates!.Fingerprint);
        Assert.DoesNotContain("XCAESAR", (await client.CommandAsync("EHLO old.client")).Lines);
        Assert.Equal(502, (await client.CommandAsync("XCAESAR 3")).Code);
    }

    [Fact]
    public async Task When_enabled_both_sides_shift_every_byte_and_mail_still_flows()
    {
        await using var server = await LoopbackServer.StartAsync(new SmtpServerOptions { AllowCaesarObfuscation = true });
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Endpoint, TestContext.Current.CancellationToken);
        var stream = tcp.GetStream();
        var reader = new StreamReader(stream, Encoding.Latin1);
        async Task<string> PlainLine() => (await reader.ReadLineAsync(TestContext.Current.CancellationToken))!;
        async Task SendPlain(string line) => await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), TestContext.Current.CancellationToken);

        Assert.StartsWith("220 ", await PlainLine(), StringComparison.Ordinal);
        await SendPlain("EHLO old.client");
        string line;
        do
        {
            line = await PlainLine();
        }
        while (line[3] == '-');
        await SendPlain("XCAESAR 3");
        var on = await PlainLine();
        Assert.StartsWith("220 2.0.0 Caesar obfuscation on, shift 3", on, StringComparison.Ordinal);
        Assert.Contains("protects nothing", on, StringComparison.Ordinal);

        // From here on the wire carries every byte shifted by 3.
        var shifted = new ShiftingClient(stream, 3);
        Assert.Equal("250 2.0.0 OK", await shifted.CommandAsync("NOOP"));
        Assert.StartsWith("250 ", await shifted.CommandAsync("MAIL FROM:<old@remote.test>"), StringComparison.Ordinal);
        Assert.StartsWith("250 ", await shifted.CommandAsync("RCPT TO:<alice@example.test>"), StringComparison.Ordinal);
        Assert.StartsWith("354 ", await shifted.CommandAsync("DATA"), StringComparison.Ordinal);
        Assert.StartsWith("250 2.0.0 OK: queued as ", await shifted.CommandAsync("Subject: rot3\r\n\r\nobfuscated, not secret\r\n."), StringComparison.Ordinal);
        Assert.Equal("rot3", Assert.Single(await server.Store.ListMessagesAsync(null, CancellationToken.None)).Subject);
    }

    /// <summary>A client speaking the shifted protocol, one-line replies only.</summary>
    private sealed class ShiftingClient(NetworkStream stream, byte shift)
    {
        private readonly List<byte> _pending = [];

        public async Task<string> CommandAsync(string line)
        {
            var bytes = Encoding.ASCII.GetBytes(line + "\r\n").Select(b => (byte)(b + shift)).ToArray();
            await stream.WriteAsync(bytes);
            while (true)
            {
                var end = _pending.IndexOf((byte)'\n');
                if (end >= 0)
                {
                    var reply = Encoding.ASCII.GetString([.. _pending.Take(end)]).TrimEnd('\r');
                    _pending.RemoveRange(0, end + 1);
                    return reply;
                }

                var buffer = new byte[4096];
                var read = await stream.ReadAsync(buffer);
                Assert.True(read > 0, "the server closed the connection");
                _pending.AddRange(buffer.Take(read).Select(b => (byte)(b - shift)));
            }
        }
    }
}
