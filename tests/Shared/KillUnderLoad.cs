using MailKit.Net.Smtp;
using MimeKit;

namespace Mailroom.Testing.Crash;

/// <summary>
/// Issue 9, item 5, for any store: load against a real <c>mailroom serve</c> process, SIGKILLed at
/// a random moment of each round and started again on what the kill left. One source file,
/// compiled into the SQLite tests (Mailroom.Server.Tests) and the PostgreSQL ones
/// (Mailroom.Scaling.Tests); <c>bench/crash.sh</c> runs both with more rounds.
/// </summary>
internal static class KillUnderLoad
{
    /// <summary>The rounds a run makes: 10 by default, MAILROOM_CRASH_ROUNDS for a longer run.</summary>
    public static int Rounds => int.TryParse(Environment.GetEnvironmentVariable("MAILROOM_CRASH_ROUNDS"), out var rounds) && rounds > 0 ? rounds : 10;

    /// <summary>The seed of the kill moments and message sizes: fixed by default, MAILROOM_CRASH_SEED for another.</summary>
    public static int Seed(int fixedSeed) => int.TryParse(Environment.GetEnvironmentVariable("MAILROOM_CRASH_SEED"), out var seed) ? seed : fixedSeed;

    /// <summary>
    /// Runs <paramref name="rounds"/> rounds: start a server, four MailKit senders on it, and a
    /// SIGKILL a random time (0 to 400 ms) after the round's first 250. Returns every message
    /// that got a 250, with its subject.
    /// </summary>
    /// <param name="start">Starts the server on the same data (folder or database) each time.</param>
    /// <param name="recipients">Who the messages go to, in turn.</param>
    public static async Task<List<(string Id, string Subject)>> RunAsync(Func<Task<ServerProcess>> start, IReadOnlyList<string> recipients, int rounds, int seed)
    {
        var random = new Random(seed);
        var acknowledged = new List<(string Id, string Subject)>();
        for (var round = 0; round < rounds; round++)
        {
            await using var server = await start();
            var acks = new List<(string Id, string Subject)>();
            var firstAck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var sizes = Enumerable.Range(0, 4).Select(_ => random.Next(4)).ToArray();
            var round1 = round;
            var senders = Enumerable.Range(0, 4).Select(c => Task.Run(() => SendUntilKilledAsync(server, round1, c, sizes[c], recipients, acks, firstAck))).ToArray();

            // The first 250, or every sender gave up (the server died at start, nobody could connect):
            // then fail at once, saying why, rather than wait out the minute.
            try
            {
                await Task.WhenAny(firstAck.Task, Task.WhenAll(senders)).WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (TimeoutException)
            {
                // Reported below with the server's log.
            }

            Assert.True(
                firstAck.Task.IsCompleted,
                $"round {round}: no message acknowledged (all senders gave up, or 60 s passed); senders ended: {string.Join("; ", senders.Where(s => s.IsCompleted).Select(s => s.Result?.Message ?? "without error"))}; server {(server.HasExited ? "exited" : "running")}, its last lines:\n{string.Join('\n', server.Output.TakeLast(20))}");

            // Somewhere in the load: a random moment after the first 250 of the round.
            await Task.Delay(random.Next(0, 400));
            await server.KillAsync();
            await Task.WhenAll(senders);
            lock (acks)
            {
                acknowledged.AddRange(acks);
            }
        }

        return acknowledged;
    }

    /// <summary>
    /// The promise: every acknowledged message is stored exactly once under its subject, and every
    /// stored message (acknowledged or not: a commit may beat the kill to the 250) is whole.
    /// </summary>
    /// <param name="stored">Every message in the store: its id and subject.</param>
    /// <param name="open">Opens a stored message's octets.</param>
    /// <param name="store">The store's name, for the report.</param>
    public static async Task VerifyAsync(string store, int seed, int rounds, List<(string Id, string Subject)> acknowledged, IReadOnlyList<(string Id, string? Subject)> stored, Func<string, Task<Stream?>> open)
    {
        Assert.True(acknowledged.Count >= 10, $"seed {seed}: only {acknowledged.Count} messages were acknowledged");
        Assert.Equal(stored.Count, stored.Select(s => s.Id).Distinct(StringComparer.Ordinal).Count());
        var storedIds = stored.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        var lost = acknowledged.Where(a => !storedIds.Contains(a.Id)).ToList();
        Assert.True(lost.Count == 0, $"seed {seed}: {lost.Count} of {acknowledged.Count} acknowledged messages are not stored, among them {string.Join(", ", lost.Take(10))}");
        foreach (var (id, subject) in acknowledged)
        {
            Assert.Equal(subject, stored.Single(s => s.Id == id).Subject);
        }

        foreach (var (id, _) in stored)
        {
            await using var body = await open(id);
            Assert.NotNull(body);
            var parsed = await MimeMessage.LoadAsync(body);
            Assert.NotNull(parsed.Subject);
            Assert.True(
                BodyOf(parsed.Subject).Replace("\r\n", "\n", StringComparison.Ordinal) == (parsed.TextBody ?? string.Empty).Replace("\r\n", "\n", StringComparison.Ordinal),
                $"seed {seed}: message {id} ('{parsed.Subject}') is stored in part");
        }

        // bench/crash.sh collects what each run saw.
        if (Environment.GetEnvironmentVariable("MAILROOM_CRASH_REPORT") is { Length: > 0 } report)
        {
            var line = System.Text.Json.JsonSerializer.Serialize(new { store, seed, rounds, acknowledged = acknowledged.Count, stored = stored.Count, storedUnacknowledged = stored.Count - acknowledged.Count });
            await File.AppendAllTextAsync(report, line + "\n");
        }
    }

    /// <summary>The body a message of this subject carries: its length is in the subject, so a body cut short shows.</summary>
    public static string BodyOf(string subject)
    {
        var lines = int.Parse(subject[(subject.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        return string.Concat(Enumerable.Range(0, lines).Select(i => $"{subject} line {i:D6}\r\n"));
    }

    /// <summary>
    /// Sends messages over one connection until the server dies; every 250 is recorded with the
    /// message's subject. Returns what ended it, for the report when a round gets no 250 at all.
    /// </summary>
    private static async Task<Exception?> SendUntilKilledAsync(ServerProcess server, int round, int connection, int sizeClass, IReadOnlyList<string> recipients, List<(string Id, string Subject)> acks, TaskCompletionSource firstAck)
    {
        try
        {
            using var client = new SmtpClient();
            await client.ConnectAsync("127.0.0.1", server.Endpoint.Port, MailKit.Security.SecureSocketOptions.None);
            for (var i = 0; ; i++)
            {
                // About 50 octets a line: 20 lines, 400, 2,000 (inline in SQLite) and 4,000 (over
                // SQLite's 128 KiB inline limit, a file; several chunks in PostgreSQL).
                var lines = sizeClass switch { 0 => 20, 1 => 400, 2 => 2000, _ => 4000 };
                var subject = $"kill {round}/{connection}/{i} lines {lines}";
                var message = new MimeMessage();
                message.From.Add(MailboxAddress.Parse("load@remote.test"));
                message.To.Add(MailboxAddress.Parse(recipients[i % recipients.Count]));
                message.Subject = subject;
                message.Body = new TextPart("plain") { Text = BodyOf(subject) };
                var response = await client.SendAsync(message);
                lock (acks)
                {
                    acks.Add((response[(response.LastIndexOf(' ') + 1)..], subject));
                }

                firstAck.TrySetResult();
            }
        }
#pragma warning disable CA1031 // The kill ends the connection in whatever way MailKit reports it.
        catch (Exception e)
#pragma warning restore CA1031
        {
            // Killed: whatever was in flight got no 250.
            return e;
        }
    }
}
