using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MailKit.Security;
using Mailroom.Core.Accounts;
using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;

namespace Mailroom.Testing.Disconnects;

/// <summary>
/// What a disconnect run needs of the server under test, and no more: where case n connects, which
/// certificate it trusts, the store its mailbox cases are made in and its checks read, and the
/// body sizes that reach past the store's in-memory limit. The SQLite test (Mailroom.Server.Tests)
/// and the PostgreSQL one (Mailroom.Scaling.Tests) each fill one in.
/// </summary>
internal sealed class DisconnectTarget
{
    /// <summary>The accounts every delivery case sends to: the test makes them before the run.</summary>
    public static readonly string[] Recipients = ["alice@example.test", "bob@example.test", "carol@example.test"];

    /// <summary>The endpoint case n connects to.</summary>
    public required Func<int, IPEndPoint> Endpoint { get; init; }

    /// <summary>Whether the STARTTLS handshake accepts the server's certificate.</summary>
    public required Func<X509Certificate?, bool> TrustsCertificate { get; init; }

    /// <summary>The store a mailbox case's account and messages are made in, and the checks read.</summary>
    public required IMailStore Store { get; init; }

    public required PasswordHasher Hasher { get; init; }

    /// <summary>The password of every account the run logs in as (the recipients' and each mailbox case's).</summary>
    public required string Password { get; init; }

    /// <summary>
    /// Three bands of body size, drawn from with equal chance; the last reaches past the store's
    /// in-memory limit, so a cut body is one the store has begun to write out.
    /// </summary>
    public required (int Min, int Max)[] BodySizes { get; init; }
}

internal enum DeliveryStatus
{
    Incomplete,

    /// <summary>The final "." or the BDAT LAST chunk went out whole before the cut: the server may have committed.</summary>
    EndSent,
    Acknowledged,
}

internal sealed class Delivery(string subject, byte[] content, string[] recipients)
{
    public string Subject { get; } = subject;

    public byte[] Content { get; } = content;

    public string[] Recipients { get; } = recipients;

    public DeliveryStatus Status { get; set; }

    public string? AcknowledgedId { get; set; }

    public string Point { get; set; } = "no cut";
}

/// <summary>A mailbox session's account: what its inbox holds as confirmed, and would hold if the command cut before its reply took effect.</summary>
internal sealed class MailboxCase(string address, IEnumerable<string> ids)
{
    public string Address { get; } = address;

    public List<string> Order { get; } = [.. ids];

    public HashSet<string> Confirmed { get; } = [.. ids];

    public HashSet<string>? IfPendingApplied { get; set; }

    public string? Current { get; set; }

    public string Point { get; set; } = "no cut";
}

/// <summary>One step of a script: what the client writes (decided when it is written) and what it reads after.</summary>
internal sealed record Step(string Category, Func<byte[]> Bytes, Func<Task>? After = null, bool Handshake = false, Action? WholeSent = null);

/// <summary>
/// Issue 9, item 2, for any store: connections cut at random points of random transactions (EHLO,
/// STARTTLS and its handshake, AUTH and its SASL exchange, MAIL, RCPT, DATA, BDAT, mailbox
/// commands), by FIN and by RST. The cases, what they sent, the counts of cut points, and the
/// checks that read the store alike on both (messages whole, DELE all or nothing); the checks of
/// locks, transactions and files stay with each store's test. One source file, compiled into the
/// SQLite and the PostgreSQL test projects (see their csproj).
/// </summary>
internal sealed class DisconnectRun(DisconnectTarget target, int seed)
{
    public ConcurrentBag<Delivery> Deliveries { get; } = [];

    public ConcurrentBag<MailboxCase> Mailboxes { get; } = [];

    public ConcurrentDictionary<string, byte> Prepopulated { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, int> Points { get; } = new(StringComparer.Ordinal);

    /// <summary>The test's fixed seed, or MAILROOM_PROPERTY_SEED to replay another.</summary>
    public static int Seed(int fixedSeed) =>
        int.TryParse(Environment.GetEnvironmentVariable("MAILROOM_PROPERTY_SEED"), out var overridden) ? overridden : fixedSeed;

    /// <summary>Runs <paramref name="cases"/> cases, <paramref name="lanes"/> connections at a time; each case has its own seed, drawn from the run's.</summary>
    public async Task CutAsync(int cases, int lanes)
    {
        var master = new Random(seed);
        var caseSeeds = Enumerable.Range(0, cases).Select(_ => master.Next()).ToArray();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, lanes).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < cases; i = Interlocked.Increment(ref next))
            {
                try
                {
                    await CaseAsync(i, new Random(caseSeeds[i]));
                }
                catch (Exception ex)
                {
                    throw new Xunit.Sdk.XunitException($"Case {i} failed (seed {seed}; the case alone: new Random({caseSeeds[i]})): {ex}", ex);
                }
            }
        })));
    }

    /// <summary>Check 1: every stored message was sent whole, is stored byte for byte, and every acknowledged one is there.</summary>
    public async Task CheckMessagesAsync()
    {
        var stored = (await target.Store.ListMessagesAsync(null, CancellationToken.None))
            .Where(s => !Prepopulated.ContainsKey(s.MessageId))
            .GroupBy(s => s.MessageId)
            .ToDictionary(g => g.Key, g => g.ToList());
        var bySubject = Deliveries.ToDictionary(d => d.Subject);
        foreach (var (id, rows) in stored)
        {
            var subject = rows[0].Subject ?? "(none)";
            Assert.True(bySubject.TryGetValue(subject, out var delivery), $"seed {seed}: stored message {id} with subject '{subject}' was never sent by the test");
            Assert.True(delivery.Status is DeliveryStatus.Acknowledged or DeliveryStatus.EndSent, $"seed {seed}: {subject} was stored, but its data was cut off ({delivery.Point})");
            if (delivery.Status == DeliveryStatus.Acknowledged)
            {
                Assert.Equal(delivery.AcknowledgedId, id);
            }

            await using var body = await target.Store.OpenMessageAsync(id, CancellationToken.None);
            using var copy = new MemoryStream();
            await body!.CopyToAsync(copy, TestContext.Current.CancellationToken);
            var bytes = copy.ToArray();
            Assert.True(bytes.AsSpan().EndsWith(delivery.Content), $"seed {seed}: {subject} ({delivery.Point}) is stored with {bytes.Length} octets that do not end with the {delivery.Content.Length} sent");
            Assert.StartsWith("Return-Path: ", Encoding.ASCII.GetString(bytes, 0, Math.Min(64, bytes.Length)), StringComparison.Ordinal);
            Assert.Equal(delivery.Recipients.Order(StringComparer.Ordinal), rows.Select(r => r.Mailbox.ToLowerInvariant()).Order(StringComparer.Ordinal));
        }

        foreach (var delivery in Deliveries.Where(d => d.Status == DeliveryStatus.Acknowledged))
        {
            Assert.True(stored.ContainsKey(delivery.AcknowledgedId!), $"seed {seed}: {delivery.Subject} got 250 ({delivery.AcknowledgedId}) but is not stored");
        }
    }

    /// <summary>Check 2c: each mailbox session's DELE took effect whole or not at all.</summary>
    public async Task CheckMailboxesAsync()
    {
        foreach (var mailbox in Mailboxes)
        {
            var reference = (await target.Store.FindMailboxAsync(mailbox.Address, CancellationToken.None))!;
            var reader = (await target.Store.FindAccountAsync(mailbox.Address, CancellationToken.None))!;
            var inbox = (await target.Store.ListMailboxAsync(reference.Id, reader.Id, CancellationToken.None)).Select(e => e.MessageId).ToHashSet(StringComparer.Ordinal);
            Assert.True(
                inbox.SetEquals(mailbox.Confirmed) || (mailbox.IfPendingApplied is { } applied && inbox.SetEquals(applied)),
                $"seed {seed}: {mailbox.Address} ({mailbox.Point}) holds [{string.Join(' ', inbox)}], expected [{string.Join(' ', mailbox.Confirmed)}]" +
                (mailbox.IfPendingApplied is { } other ? $" or [{string.Join(' ', other)}]" : string.Empty));
        }
    }

    /// <summary>The deliveries by outcome and the cut points by count, for the test's output.</summary>
    public void Report(ITestOutputHelper? output)
    {
        output?.WriteLine($"Deliveries: {Deliveries.Count(d => d.Status == DeliveryStatus.Acknowledged)} acknowledged, {Deliveries.Count(d => d.Status == DeliveryStatus.EndSent)} cut right after their end was sent, {Deliveries.Count(d => d.Status == DeliveryStatus.Incomplete)} cut before");
        foreach (var (point, count) in Points.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            output?.WriteLine($"  {point}: {count}");
        }
    }

    internal static byte[] Line(string text) => Encoding.UTF8.GetBytes(text + "\r\n");

    internal static void Expect(int code, string reply) =>
        Assert.True(reply.StartsWith(code.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), $"expected {code}, got '{reply}'");

    private async Task CaseAsync(int index, Random random)
    {
        var tag = string.Create(CultureInfo.InvariantCulture, $"{seed}-{index}");
        await using var connection = await Connection.OpenAsync(target.Endpoint(index), target.TrustsCertificate);
        var steps = new List<Step>();
        Greet(steps, connection, random.Next(2) == 0);
        Action<string> setPoint;
        if (random.Next(10) < 7)
        {
            var delivery = Script(steps, connection, random, tag);
            Deliveries.Add(delivery);
            setPoint = p => delivery.Point = p;
        }
        else
        {
            var mailbox = await MailboxScriptAsync(steps, connection, random, tag);
            Mailboxes.Add(mailbox);
            setPoint = p => mailbox.Point = p;
        }

        steps.Add(new Step("QUIT", () => Line("QUIT"), async () => Expect(221, await connection.ReadReplyAsync())));

        // The cut: a category first, so rare points are cut as often as common ones (and the
        // message content half the time), then one of its steps and an offset.
        var categories = steps.Select(s => s.Category).Distinct().ToList();
        var content = categories.Where(c => c.StartsWith("DATA ", StringComparison.Ordinal) || c.StartsWith("BDAT ", StringComparison.Ordinal)).ToList();
        var category = content.Count > 0 && random.Next(2) == 0 ? content[random.Next(content.Count)] : categories[random.Next(categories.Count)];
        var candidates = Enumerable.Range(0, steps.Count).Where(i => steps[i].Category == category).ToList();
        var cutAt = random.Next(20) == 0 ? -1 : candidates[random.Next(candidates.Count)];
        // The edges (nothing of the step sent, all of it sent) a third of the time.
        var fraction = random.Next(6) switch { 0 => 0, 1 => 1, _ => random.NextDouble() };
        var abort = random.Next(2) == 0;
        var point = await ExecuteAsync(connection, steps, cutAt, fraction, abort);
        setPoint($"{point} by {(abort ? "RST" : "FIN")}");
        Points.AddOrUpdate(point, 1, (_, n) => n + 1);
    }

    /// <summary>Runs the steps; at <paramref name="cutAt"/> writes only part of the step (or all of it, without reading the reply) and cuts.</summary>
    private static async Task<string> ExecuteAsync(Connection connection, List<Step> steps, int cutAt, double fraction, bool abort)
    {
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            if (step.Handshake)
            {
                if (i == cutAt)
                {
                    // ClientHello and Finished come to a few hundred octets: some cuts fall after the handshake.
                    var budget = (int)(fraction * 700);
                    var cut = await connection.StartTlsAsync(budget);
                    await connection.CutAsync(abort);
                    return cut ? "TLS handshake: cut inside" : "TLS handshake: cut just after";
                }

                await connection.StartTlsAsync(null);
                continue;
            }

            var bytes = step.Bytes();
            if (i == cutAt)
            {
                var offset = Math.Min(bytes.Length, (int)(fraction * (bytes.Length + 1)));
                if (fraction > 0 && offset == 0 && bytes.Length > 0)
                {
                    offset = 1;
                }

                await connection.WriteAsync(bytes.AsMemory(0, offset));
                if (offset == bytes.Length)
                {
                    step.WholeSent?.Invoke();
                }

                await connection.CutAsync(abort);
                return $"{step.Category}: {(offset == 0 ? "cut before" : offset == bytes.Length ? "cut after, before the reply" : "cut inside")}";
            }

            await connection.WriteAsync(bytes);
            step.WholeSent?.Invoke();
            if (step.After is not null)
            {
                await step.After();
            }
        }

        return "no cut";
    }

    private static void Greet(List<Step> steps, Connection connection, bool tls)
    {
        steps.Add(new Step("EHLO", () => Line("EHLO cut.test"), async () => Expect(250, await connection.ReadReplyAsync())));
        if (tls)
        {
            steps.Add(new Step("STARTTLS", () => Line("STARTTLS"), async () => Expect(220, await connection.ReadReplyAsync())));
            steps.Add(new Step("TLS handshake", () => [], Handshake: true));
            steps.Add(new Step("EHLO", () => Line("EHLO cut.test"), async () => Expect(250, await connection.ReadReplyAsync())));
        }
    }

    /// <summary>AUTH PLAIN (with or without an initial response), LOGIN or SCRAM-SHA-256, as <paramref name="user"/>.</summary>
    private void Authenticate(List<Step> steps, Connection connection, Random random, string user)
    {
        var password = target.Password;
        var credentials = new NetworkCredential(user, password);
        async Task Challenge() => Expect(334, await connection.ReadReplyAsync());
        async Task Done() => Expect(235, await connection.ReadReplyAsync());
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));
        switch (random.Next(4))
        {
            case 0:
                steps.Add(new Step("AUTH", () => Line("AUTH PLAIN " + plain), Done));
                break;
            case 1:
                steps.Add(new Step("AUTH", () => Line("AUTH PLAIN"), Challenge));
                steps.Add(new Step("SASL response", () => Line(plain), Done));
                break;
            case 2:
                steps.Add(new Step("AUTH", () => Line("AUTH LOGIN"), Challenge));
                steps.Add(new Step("SASL response", () => Line(Convert.ToBase64String(Encoding.UTF8.GetBytes(user))), Challenge));
                steps.Add(new Step("SASL response", () => Line(Convert.ToBase64String(Encoding.UTF8.GetBytes(password))), Done));
                break;
            default:
                var scram = new SaslMechanismScramSha256(credentials);
                var challenge = string.Empty;
                async Task Read()
                {
                    var reply = await connection.ReadReplyAsync();
                    Expect(334, reply);
                    challenge = reply[4..];
                }

                steps.Add(new Step("AUTH", () => Line("AUTH SCRAM-SHA-256 " + scram.Challenge(null, CancellationToken.None)), Read));
                steps.Add(new Step("SASL response", () => Line(scram.Challenge(challenge, CancellationToken.None)), Read));
                steps.Add(new Step("SASL response", () =>
                {
                    scram.Challenge(challenge, CancellationToken.None);
                    Assert.True(scram.IsAuthenticated, "the server's SCRAM signature did not verify");
                    return Line(string.Empty);
                }, Done));
                break;
        }
    }

    private Delivery Script(List<Step> steps, Connection connection, Random random, string tag)
    {
        var everyone = DisconnectTarget.Recipients;
        var login = random.Next(3) == 0 ? everyone[random.Next(everyone.Length)] : null;
        if (login is not null)
        {
            Authenticate(steps, connection, random, login);
        }

        var recipients = everyone.OrderBy(_ => random.Next()).Take(random.Next(1, 4)).ToArray();
        var (content, lines) = Content(random, tag, login ?? "sender@remote.test");
        var delivery = new Delivery($"cut {tag}", content, recipients);
        async Task Ok() => Expect(250, await connection.ReadReplyAsync());
        steps.Add(new Step("MAIL", () => Line($"MAIL FROM:<{login ?? "sender@remote.test"}>"), Ok));
        foreach (var recipient in recipients)
        {
            steps.Add(new Step("RCPT", () => Line($"RCPT TO:<{recipient}>"), Ok));
        }

        async Task Accepted()
        {
            var reply = await connection.ReadReplyAsync();
            Expect(250, reply);
            delivery.Status = DeliveryStatus.Acknowledged;
            delivery.AcknowledgedId = reply[(reply.LastIndexOf(' ') + 1)..];
        }

        void EndSent() => delivery.Status = DeliveryStatus.EndSent;
        if (random.Next(2) == 0)
        {
            var stuffed = string.Concat(lines.Select(l => (l.StartsWith('.') ? "." : string.Empty) + l + "\r\n"));
            steps.Add(new Step("DATA", () => Line("DATA"), async () => Expect(354, await connection.ReadReplyAsync())));
            steps.Add(new Step("DATA content", () => Encoding.ASCII.GetBytes(stuffed)));
            steps.Add(new Step("DATA final dot", () => Line("."), Accepted, WholeSent: EndSent));
        }
        else
        {
            var chunks = Chunks(random, content);
            for (var i = 0; i < chunks.Count; i++)
            {
                var chunk = chunks[i];
                var last = i == chunks.Count - 1;
                // "BDAT 0 LAST" ends the message with its command line.
                steps.Add(new Step("BDAT command", () => Line($"BDAT {chunk.Length}{(last ? " LAST" : string.Empty)}"), WholeSent: last && chunk.Length == 0 ? EndSent : null));
                steps.Add(last
                    ? new Step("BDAT LAST chunk", () => chunk, Accepted, WholeSent: EndSent)
                    : new Step("BDAT chunk", () => chunk, Ok));
            }
        }

        return delivery;
    }

    /// <summary>A message with a subject and a last line of its own, its size from one of the target's three bands.</summary>
    private (byte[] Content, List<string> Lines) Content(Random random, string tag, string from)
    {
        var (min, max) = target.BodySizes[random.Next(3)];
        var size = random.Next(min, max);
        List<string> lines = [$"From: <{from}>", $"Subject: cut {tag}", string.Empty];
        var length = lines.Sum(l => l.Length + 2);
        const string Alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,;:-_=";
        var buffer = new char[200];
        while (length < size)
        {
            var n = random.Next(0, 120);
            for (var i = 0; i < n; i++)
            {
                buffer[i] = Alphabet[random.Next(Alphabet.Length)];
            }

            // Lines that need dot-stuffing, and one that looks like the end of DATA.
            var line = random.Next(30) switch
            {
                0 => ".",
                1 => ".." + new string(buffer, 0, n),
                _ => new string(buffer, 0, n),
            };
            lines.Add(line);
            length += line.Length + 2;
        }

        lines.Add($"END {tag}");
        return (Encoding.ASCII.GetBytes(string.Concat(lines.Select(l => l + "\r\n"))), lines);
    }

    /// <summary>1 to 4 chunks, none empty but, sometimes, a LAST of 0 octets.</summary>
    private static List<byte[]> Chunks(Random random, byte[] content)
    {
        var count = random.Next(1, 5);
        var cuts = Enumerable.Range(0, count - 1).Select(_ => random.Next(1, content.Length)).Distinct().Order().ToList();
        var chunks = new List<byte[]>();
        var start = 0;
        foreach (var end in cuts.Append(content.Length))
        {
            chunks.Add(content[start..end]);
            start = end;
        }

        if (random.Next(4) == 0)
        {
            chunks.Add([]);
        }

        return chunks;
    }

    /// <summary>
    /// A mailbox session on an account of its own with 1 to 4 messages: log in (LOGN or AUTH),
    /// READ INBOX, then NEXT, PREV, FLAG, LIST, DELE and DELE INBOX, sometimes RTRN.
    /// </summary>
    private async Task<MailboxCase> MailboxScriptAsync(List<Step> steps, Connection connection, Random random, string tag)
    {
        var address = $"reader-{tag}@example.test";
        await target.Store.AddAccountAsync(address, target.Hasher.Hash(target.Password), CancellationToken.None);
        var mailbox = (await target.Store.FindMailboxAsync(address, CancellationToken.None))!;
        var ids = new List<string>();
        for (var i = random.Next(1, 5); i > 0; i--)
        {
            var id = MessageIds.New();
            await using var writer = await target.Store.BeginMessageAsync(new MessageEnvelope(id, "sender@remote.test", [new EnvelopeRecipient(mailbox, address)], DateTimeOffset.UtcNow), CancellationToken.None);
            await writer.WriteAsync(Encoding.ASCII.GetBytes($"Subject: stored {tag} {i}\r\n\r\n{new string('m', random.Next(0, 20_000))}\r\n"), CancellationToken.None);
            await writer.CommitAsync(CancellationToken.None);
            ids.Add(id);
            Prepopulated.TryAdd(id, 0);
        }

        var state = new MailboxCase(address, ids);
        if (random.Next(2) == 0)
        {
            steps.Add(new Step("LOGN", () => Line($"LOGN {address} {target.Password}"), async () => Expect(235, await connection.ReadReplyAsync())));
        }
        else
        {
            Authenticate(steps, connection, random, address);
        }

        steps.Add(new Step("READ", () => Line("READ INBOX"), async () => Expect(250, await connection.ReadReplyAsync())));
        for (var i = random.Next(1, 7); i > 0; i--)
        {
            var verb = random.Next(7) switch
            {
                0 or 1 => "NEXT",
                2 => "PREV",
                3 => "FLAG",
                4 => "LIST",
                5 => "DELE",
                _ => "DELE INBOX",
            };
            steps.Add(MailboxStep(connection, state, verb, random));
        }

        if (random.Next(3) == 0)
        {
            steps.Add(new Step("RTRN", () => Line("RTRN"), async () => Expect(250, await connection.ReadReplyAsync())));
        }

        return state;
    }

    private static Step MailboxStep(Connection connection, MailboxCase state, string verb, Random random)
    {
        var flag = random.Next(2) == 0 ? "FLAG important" : "FLAG read off";
        switch (verb)
        {
            case "NEXT" or "PREV":
                return new Step(verb, () => Line(verb), async () =>
                {
                    var reply = await connection.ReadReplyAsync();
                    if (reply.StartsWith("250", StringComparison.Ordinal))
                    {
                        // "250 2.0.0 <n> <id> <octets> ...": the octets follow the reply.
                        var words = reply.Split(' ');
                        state.Current = words[3];
                        Assert.Contains(state.Current, state.Confirmed);
                        await connection.ReadBytesAsync(int.Parse(words[4], CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        // Past either end: which message the server now holds as current is not the test's to guess.
                        Expect(550, reply);
                        state.Current = null;
                    }
                });
            case "FLAG":
                return new Step("FLAG", () => Line(flag), async () => await connection.ReadReplyAsync());
            case "LIST":
                return new Step("LIST", () => Line("LIST"), async () => Expect(250, await connection.ReadReplyAsync()));
            case "DELE INBOX":
                return new Step(verb, () => Line(verb), async () =>
                {
                    Expect(250, await connection.ReadReplyAsync());
                    state.Confirmed.Clear();
                    state.IfPendingApplied = null;
                    state.Current = null;
                }, WholeSent: () => state.IfPendingApplied = []);
            default:
                // DELE of the current message, when the test knows which one that is; else a harmless LIST.
                string? target = null;
                return new Step("DELE", () =>
                {
                    target = state.Current;
                    return Line(target is null ? "LIST" : "DELE");
                }, async () =>
                {
                    var reply = await connection.ReadReplyAsync();
                    Expect(250, reply);
                    if (target is not null)
                    {
                        state.Confirmed.Remove(target);
                        state.IfPendingApplied = null;
                        state.Current = null;
                    }
                }, WholeSent: () => state.IfPendingApplied = target is null ? null : [.. state.Confirmed.Where(id => id != target)]);
        }
    }
}

/// <summary>A client connection that can be cut anywhere: by FIN or RST, and inside the TLS handshake after a given number of octets.</summary>
internal sealed class Connection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Wire _wire;
    private readonly Func<X509Certificate?, bool> _trusts;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private Stream _stream;
    private int _start;
    private int _end;

    private Connection(Socket socket, Func<X509Certificate?, bool> trusts)
    {
        _socket = socket;
        _trusts = trusts;
        _wire = new Wire(new NetworkStream(socket, ownsSocket: false));
        _stream = _wire;
    }

    public static async Task<Connection> OpenAsync(IPEndPoint endpoint, Func<X509Certificate?, bool> trusts)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endpoint);
        var connection = new Connection(socket, trusts);
        DisconnectRun.Expect(220, await connection.ReadReplyAsync());
        return connection;
    }

    public async Task WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>The TLS handshake; with a budget, the raw connection stops after that many octets. True when the budget cut it.</summary>
    public async Task<bool> StartTlsAsync(int? budget)
    {
        Assert.Equal(_start, _end);
        _wire.Budget = budget is null ? null : _wire.Written + budget.Value;
        var trusts = _trusts;
        var tls = new SslStream(_wire, leaveInnerStreamOpen: true, (_, certificate, _, _) => trusts(certificate));
        try
        {
            await tls.AuthenticateAsClientAsync("mx.example.test");
        }
        catch (Exception) when (_wire.Exhausted)
        {
            return true;
        }

        _wire.Budget = null;
        _stream = tls;
        return false;
    }

    public async Task<string> ReadReplyAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync();
            lines.Add(line);
            if (line.Length < 4 || line[3] != '-')
            {
                return string.Join('\n', lines);
            }
        }
    }

    public async Task ReadBytesAsync(int count)
    {
        while (count > 0)
        {
            if (_start == _end)
            {
                await FillAsync();
            }

            var take = Math.Min(count, _end - _start);
            _start += take;
            count -= take;
        }
    }

    /// <summary>
    /// RST: linger 0 and close. FIN: shut down the sending side, then read (raw) until the
    /// server closes its side too, as a server that noticed the end must.
    /// </summary>
    public async Task CutAsync(bool abort)
    {
        if (abort)
        {
            _socket.LingerState = new LingerOption(true, 0);
            _socket.Close();
            return;
        }

        _socket.Shutdown(SocketShutdown.Send);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var sink = new byte[64 * 1024];
        try
        {
            while (await _socket.ReceiveAsync(sink, SocketFlags.None, deadline.Token) > 0)
            {
            }
        }
        catch (SocketException)
        {
            // Reset by the server instead: closed all the same.
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            Assert.Fail("the server kept the connection open 20 s after the client's FIN");
        }

        _socket.Close();
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<string> ReadLineAsync()
    {
        while (true)
        {
            var at = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (at >= 0)
            {
                var line = Encoding.UTF8.GetString(_buffer, _start, at - _start).TrimEnd('\r');
                _start = at + 1;
                return line;
            }

            await FillAsync();
        }
    }

    private async Task FillAsync()
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var read = await _stream.ReadAsync(_buffer.AsMemory(_end), timeout.Token);
        if (read == 0)
        {
            throw new EndOfStreamException("The server closed the connection.");
        }

        _end += read;
    }
}

/// <summary>The raw connection: counts what is written and, with a budget, writes only up to it and then fails every write.</summary>
internal sealed class Wire(NetworkStream inner) : Stream
{
    public long Written { get; private set; }

    public long? Budget { get; set; }

    public bool Exhausted { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Budget is { } budget && Written + buffer.Length > budget)
        {
            var allowed = (int)Math.Max(0, budget - Written);
            await inner.WriteAsync(buffer[..allowed], cancellationToken);
            Written += allowed;
            Exhausted = true;
            throw new IOException("cut by the test");
        }

        await inner.WriteAsync(buffer, cancellationToken);
        Written += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
