using System.Net;
using System.Net.Sockets;
using System.Text;
using Mailroom.Server.Transport;

namespace Mailroom.Server.Tests.Transport;

/// <summary>What an idle connection holds: issue 8 asks for at most 4 KiB per idle session.</summary>
public class IdleTransportTests
{
    [Fact]
    public async Task A_transport_waiting_for_input_holds_no_pipe_and_reads_what_comes_next()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var accepted = await listener.AcceptAsync();
        await using var stream = new NetworkStream(accepted, ownsSocket: false);
        await using var transport = await StreamTransport.CreateAsync(stream, null, implicitTls: false, CancellationToken.None);

        // The greeting goes out through the pipe, so the pipes exist before the wait.
        await transport.Output.WriteAsync("220 ready\r\n"u8.ToArray());
        await transport.Output.FlushAsync();
        Assert.True(transport.HoldsPipes);

        var wait = transport.WaitForInputAsync(CancellationToken.None);
        Assert.False(wait.IsCompleted);
        Assert.False(transport.HoldsPipes);

        await client.SendAsync("NOOP\r\n"u8.ToArray());
        Assert.Equal(0, await wait);
        var read = await transport.Input.ReadAsync();
        Assert.Equal("NOOP\r\n", Encoding.ASCII.GetString(read.Buffer));
        transport.Input.AdvanceTo(read.Buffer.End);
    }
}
