using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;
using Mailroom.Storage.Postgres;
using Mailroom.Testing;

namespace Mailroom.Scaling.Tests;

/// <summary>A stored message that cannot be read to its end once NEXT has promised its octets.</summary>
public sealed partial class BodyFailureTests(PostgresFixture fixture)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_body_that_fails_after_its_octet_count_closes_the_connection_with_no_reply_inside_the_octets()
    {
        await using var set = await NodeSet.CreateAsync(fixture.Require());
        var node = await set.StartNodeAsync();

        // Three chunks of text; the second is then lost, as when another node purges the message mid-read.
        var id = MessageIds.New();
        var body = Encoding.ASCII.GetBytes("Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('x', 998) + "\r\n", 2500)));
        await using (var store = await PostgresMailStore.OpenAsync(set.StoreOptions, Token))
        {
            var alice = (await store.FindMailboxAsync(NodeSet.Alice, Token))!;
            await using var writer = await store.BeginMessageAsync(new MessageEnvelope(id, "sender@remote.test", [new EnvelopeRecipient(alice, NodeSet.Alice)], DateTimeOffset.UtcNow), Token);
            await writer.WriteAsync(body, Token);
            await writer.CommitAsync(Token);
        }

        await using (var connection = new Npgsql.NpgsqlConnection(set.ConnectionString))
        {
            await connection.OpenAsync(Token);
            await using var delete = new Npgsql.NpgsqlCommand("DELETE FROM message_chunks WHERE seq = 1;", connection);
            Assert.Equal(1, await delete.ExecuteNonQueryAsync(Token));
        }

        await using var client = await LineClient.ConnectAsync(node.Endpoint);
        Assert.StartsWith("250", await client.CommandAsync("EHLO client.test"), StringComparison.Ordinal);
        Assert.StartsWith("235", await client.CommandAsync($"LOGN {NodeSet.Alice} {NodeSet.AlicePassword}"), StringComparison.Ordinal);
        Assert.StartsWith("250", await client.CommandAsync($"READ {NodeSet.Alice}"), StringComparison.Ordinal);
        var follows = OctetsFollow().Match(await client.CommandAsync("NEXT"));
        Assert.True(follows.Success);
        Assert.Equal(body.Length, long.Parse(follows.Groups[1].Value, CultureInfo.InvariantCulture));

        // The first chunk, then the end of the connection: no 451 among the promised octets.
        var rest = await client.ReadToEndAsync();
        Assert.Equal(PostgresMailStore.ChunkSize, rest.Length);
        Assert.Equal(Encoding.ASCII.GetString(body, 0, PostgresMailStore.ChunkSize), rest);

        // The node goes on.
        Assert.False(node.HasExited);
        await NodeSet.SendAsync(node, NodeSet.Alice, "after the broken read");
    }

    [GeneratedRegex(@"^250 2\.0\.0 \d+ \S+ (\d+) octets follow")]
    private static partial Regex OctetsFollow();
}
