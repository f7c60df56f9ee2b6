using System.Text;
using Mailroom.Server.Session;
using Mailroom.Server.Tests.Fakes;

namespace Mailroom.Server.Tests.Sessions;

public class SessionTests
{
    private static string Body(InMemoryMailStore store) => Encoding.UTF8.GetString(Assert.Single(store.Committed.Values).Body);

    [Fact]
    public async Task Greeting_and_ehlo_advertise_the_extensions()
    {
        await using var h = new SessionHarness();
        var greeting = await h.ReadReplyAsync();
        Assert.Equal(220, greeting.Code);
        Assert.Null(greeting.Enhanced);
        Assert.StartsWith("mx.test ", greeting.Lines[0], StringComparison.Ordinal);
        var ehlo = await h.ExpectAsync("EHLO client.test", 250);
        Assert.Equal("mx.test greets client.test", ehlo.Lines[0]);
        Assert.Equal(["PIPELINING", $"SIZE {h.Options.MaxMessageSize}", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING"], ehlo.Lines.Skip(1));
    }

    [Fact]
    public async Task Helo_advertises_nothing_and_an_rfc821_transaction_works()
    {
        await using var h = new SessionHarness();
        var helo = await h.StartAsync("HELO old.client");
        Assert.Single(helo.Lines);
        await h.ExpectAsync("MAIL FROM:<sender@remote.test>", 250);
        await h.ExpectAsync("RCPT TO:<alice@example.test>", 250);
        await h.ExpectAsync("DATA", 354);
        var done = await h.CommandAsync("Subject: old\r\n\r\nhello\r\n.");
        Assert.Equal(250, done.Code);
        Assert.Contains("with SMTP id", Body(h.Store), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_is_stored_with_trace_headers_and_unstuffed_content_and_its_id_is_in_the_250()
    {
        await using var h = new SessionHarness();
        await h.StartAsync();
        await h.ExpectAsync("MAIL FROM:<sender@remote.test>", 250);
        await h.ExpectAsync("RCPT TO:<Alice@Example.Test>", 250);
        await h.ExpectAsync("DATA", 354);
        var reply = await h.CommandAsync("Subject: test\r\n\r\n..dotted line\r\nlast\r\n.");
        Assert.Equal(250, reply.Code);
        Assert.Equal("2.0.0", reply.Enhanced.ToString());
        var (envelope, bytes) = Assert.Single(h.Store.Committed.Values);
        Assert.Contains(envelope.MessageId, reply.Lines[0], StringComparison.Ordinal);
        var body = Encoding.UTF8.GetString(bytes);
        Assert.StartsWith("Return-Path: <sender@remote.test>\r\nReceived: from client.test ([192.0.2.10])\r\n\tby mx.test (Mailroom) with ESMTP id " + envelope.MessageId + "\r\n\tfor <Alice@Example.Test>; ", body, StringComparison.Ordinal);
        Assert.EndsWith("\r\nSubject: test\r\n\r\n.dotted line\r\nlast\r\n", body, StringComparison.Ordinal);
        Assert.Equal("sender@remote.test", envelope.Sender);
        Assert.Equal(0, h.Store.OpenWriters);
    }

    [Fact]
    public async Task A_pipelined_group_is_answered_in_one_flush()
    {
        await using var h = new SessionHarness();
        await h.StartAsync();
        var before = h.Flushes;
        await h.SendAsync("MAIL FROM:<s@remote.test>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n");
        Assert.Equal(250, (await h.ReadReplyAsync()).Code);
        Assert.Equal(250, (await h.ReadReplyAsync()).Code);
        Assert.Equal(550, (await h.ReadReplyAsync()).Code);
        Assert.Equal(250, (await h.ReadReplyAsync()).Code);
        Assert.Equal(354, (await h.ReadReplyAsync()).Code);
        Assert.Equal(before + 1, h.Flushes);
        Assert.Equal(250, (await h.CommandAsync("x\r\n.")).Code);
        var (envelope, _) = Assert.Single(h.Store.Committed.Values);
        Assert.Equal(["alice@example.test", "bob@example.test"], envelope.Recipients.Select(r => r.Address));
    }

    [Fact]
    public async Task Replies_held_back_for_a_long_pipelined_group_go_out_in_pieces_of_at_most_16_kb()
    {
        await using var h = new SessionHarness(new SmtpServerOptions { HostName = "mx.test", ReverseDnsLookup = false, MaxJunkCommands = 20_000 });
        await h.StartAsync();
        var before = h.Flushes;

        // Commands with long replies (EHLO's is about 180 octets), all in the buffer at once: the
        // session can take them one after another without ever waiting for input, so only the
        // 16 KB rule flushes. Without it, every reply would be held until the buffer ran dry.
        const int count = 2_000;
        var ehlo = await h.CommandAsync("EHLO client.test");
        await h.SendAsync(string.Concat(Enumerable.Repeat("EHLO client.test\r\n", count)));
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(250, (await h.ReadReplyAsync()).Code);
        }

        // About 360 KB of replies went out in pieces of at most 16 KB and one reply, each flush
        // waiting for the client to read, instead of piling up in one buffer.
        var longestReply = System.Text.Encoding.ASCII.GetByteCount(ehlo.ToString());
        Assert.True(h.LargestFlush <= (16 * 1024) + longestReply + 64, $"one flush sent {h.LargestFlush} octets");
        var fewest = count * longestReply / ((16 * 1024) + longestReply);
        Assert.True(h.Flushes - before >= fewest, $"{h.Flushes - before} flushes for {count * longestReply} octets");
    }

    [Fact]
    public async Task Commands_out_of_sequence_get_503_and_the_session_goes_on()
    {
        await using var h = new SessionHarness();
        Assert.Equal(220, (await h.ReadReplyAsync()).Code);
        Assert.Equal("5.5.1", (await h.ExpectAsync("MAIL FROM:<a@b.test>", 503)).Enhanced.ToString());
        await h.ExpectAsync("EHLO c.test", 250);
        await h.ExpectAsync("RCPT TO:<alice@example.test>", 503);
        await h.ExpectAsync("DATA", 503);
        await h.ExpectAsync("MAIL FROM:<a@b.test>", 250);
        await h.ExpectAsync("MAIL FROM:<a@b.test>", 503);
        await h.ExpectAsync("DATA", 503);
        await h.ExpectAsync("RSET", 250);
        await h.ExpectAsync("RCPT TO:<alice@example.test>", 503);
        await h.ExpectAsync("NOOP", 250);
    }

    [Fact]
    public async Task Syntax_errors_unknown_verbs_long_lines_and_bare_lf_are_answered_and_the_session_goes_on()
    {
        await using var h = new SessionHarness();
        await h.StartAsync();
        Assert.Equal("5.5.1", (await h.ExpectAsync("FOO bar", 500)).Enhanced.ToString());
        Assert.Equal("5.5.4", (await h.ExpectAsync("MAIL TO:<a@b.test>", 501)).Enhanced.ToString());
        Assert.Equal("5.5.2", (await h.ExpectAsync("NOOP " + new string('x', 2000), 500)).Enhanced.ToString());
        await h.SendAsync("NOOP\n");
        Assert.Equal("5.5.2", (await h.ReadReplyAsync()).Enhanced.ToString());
        await h.ExpectAsync("NOOP", 250);
    }

    [Fact]
    public async Task Too_many_protocol_errors_end_the_session_with_421()
    {
        var options = new SmtpServerOptions { HostName = "mx.test", ReverseDnsLookup = false, MaxProtocolErrors = 3 };
        await using var h = new SessionHarness(options);
        await h.StartAsync();
        await h.ExpectAsync("BAD1", 500);
        await h.ExpectAsync("BAD2", 500);
        await h.SendAsync("BAD3\r\n");
        Assert.Equal(500, (await h.ReadReplyAsync()).Code);
        var closing = await h.ReadReplyAsync();
        Assert.Equal(421, closing.Code);
        Assert.Equal("4.7.0", closing.Enhanced.ToString());
        Assert.Equal(SessionEnd.TooManyErrors, await h.Run);
    }

    [Fact]
    public async Task Recipients_unknown_user_relay_and_postmaster()
    {
        await using var h = new SessionHarness();
        await h.StartAsync();
        await h.ExpectAsync("MAIL FROM:<>", 250);
        Assert.Equal("5.1.1", (await h.ExpectAsync("RCPT TO:<nobody@example.test>", 550)).Enhanced.ToString());
        Assert.Equal("5.7.1", (await h.ExpectAsync("RCPT TO:<someone@elsewhere.test>", 550)).Enhanced.ToString());
        Assert.Equal("5.7.1", (await h.ExpectAsync("RCPT TO:<someone@[192.0.2.1]>", 550)).Enhanced.ToString());
        await h.ExpectAsync("RCPT TO:<PostMaster@example.test>", 250);
        await h.ExpectAsync("RCPT TO:<Postmaster>", 250);
        await h.ExpectAsync("DATA", 354);
        await h.ExpectAsync("Subject: bounce\r\n\r\nx\r\n.", 250);
        var (envelope, bytes) = Assert.Single(h.Store.Committed.Values);
        var mailbox = Assert.Single(envelope.Recipients).Mailbox;
        Assert.Equal("postmaster", mailbox.Address);
        Assert.StartsWith("Return-Path: <>\r\n", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_recipient_limit_answers_452()
    {
        var options = new SmtpServerOptions { HostName = "mx.test", ReverseDnsLookup = false, MaxRecipients = 2 };
        await using var h = new SessionHarness(options);
        await h.StartTransactionAsync();
        await h.ExpectAsync("RCPT TO:<bob@example.test>", 250);
        Assert.Equal("4.5.3", (await h.ExpectAsync("RCPT TO:<alice@example.test>", 452)).Enhanced.ToString());
    }

    [Fact]
    public async Task The_same_mailbox_twice_gets_one_copy()
    {
        await using var h = new SessionHarness();
        await h.StartTransactionAsync();
        await h.ExpectAsync("RCPT TO:<ALICE@example.test>", 250);
        await h.ExpectAsync("DATA", 354);
        await h.ExpectAsync("x\r\n.", 250);
        Assert.Single(Assert.Single(h.Store.Committed.Values).Envelope.Recipients);
        Assert.DoesNotContain("\tfor <", Body(h.Store), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_declared_size_over_the_limit_is_refused_at_mail()
    {
        var options = new SmtpServerOptions { HostName = "mx.test", ReverseDnsLookup = false, MaxMessageSize = 1000 };
        await using var h = new SessionHarness(options);
        await h.StartAsync();
        Assert.Equal("5.3.4", (await h.ExpectAsync("MAIL FROM:<s@remote.test> SIZE=1001", 552)).Enhanced.ToString());
        await h.ExpectAsync("MAIL FROM:<s@remote.test> SIZE=1000", 250);
    }

    [Fact]
    public async Task An_oversized_message_is_read_to_its_end_refused_with_552_and_not_stored()
    {
        var options = new SmtpServerOptions { HostName = "mx.test", ReverseDnsLookup = false, MaxMessageSize = 1000 };
        await using var h = new SessionHarness(options);
        await h.StartAsync();
        await h.ExpectAsync("MAIL FROM:<s@remote.test> SIZE=10", 250);
        await h.ExpectAsync("RCPT TO:<alice@example.test>", 250);
        await h.ExpectAsync("DATA", 354);
        var big = string.Concat(Enumerable.Repeat(new string('x', 70) + "\r\n", 100));
        var reply = await h.CommandAsync(big + ".");
        Assert.Equal(552, reply.Code);
        Assert.Equal("5.3.4", reply.Enhanced.ToString());
        Assert.Empty(h.Store.Committed);
        Assert.Equal(0, h.Store.OpenWriters);
        await h.ExpectAsync("NOOP", 250);
    }

    [Fact]
    public async Task Utf8_addresses_need_the_smtputf8_parameter()
    {
        var store = new InMemoryMailStore().WithDomain("example.test").WithMailbox("alice@example.test").WithDomain("例子.测试").WithMailbox("用户@例子.测试");
        await using var h = new SessionHarness(store: store);
        await h.StartAsync();
        Assert.Equal("5.6.7", (await h.ExpectAsync("MAIL FROM:<发件人@remote.test>", 553)).Enhanced.ToString());
        await h.ExpectAsync("MAIL FROM:<s@remote.test>", 250);
        Assert.Equal("5.6.7", (await h.ExpectAsync("RCPT TO:<用户@例子.测试>", 553)).Enhanced.ToString());
        await h.ExpectAsync("RSET", 250);
        await h.ExpectAsync("MAIL FROM:<发件人@remote.test> SMTPUTF8 BODY=8BITMIME", 250);
        await h.ExpectAsync("RCPT TO:<用户@例子.测试>", 250);
        await h.ExpectAsync("DATA", 354);
        await h.ExpectAsync("Subject: 你好\r\n\r\n世界\r\n.", 250);
        var body = Body(store);
        Assert.Contains("with UTF8SMTP id", body, StringComparison.Ordinal);
        Assert.Contains("Return-Path: <发件人@remote.test>", body, StringComparison.Ordinal);
        Assert.EndsWith("Subject: 你好\r\n\r\n世界\r\n", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parameters_after_helo_are_not_recognised()
    {
        await using var h = new SessionHarness();
        await h.StartAsync("HELO old.client");
        Assert.Equal("5.5.4", (await h.ExpectAsync("MAIL FROM:<s@remote.test> SIZE=10", 555)).Enhanced.ToString());
        await h.ExpectAsync("MAIL FROM:<s@remote.test>", 250);
        await h.ExpectAsync("RCPT TO:<alice@example.test> NOTIFY=NEVER", 555);
    }

    [Fact]
    public async Task Bdat_chunks_are_stored_exactly_without_unstuffing()
    {
        await using var h = new SessionHarness();
        await h.StartTransactionAsync();
        var part1 = "Subject: chunks\r\n\r\n.not stuffed\r\n";
        var part2 = ".\r\nstill content\r\n";
        await h.SendAsync($"BDAT {part1.Length}\r\n{part1}");
        Assert.Equal(250, (await h.ReadReplyAsync()).Code);
        await h.ExpectAsync("DATA", 503);
        await h.SendAsync($"BDAT {part2.Length} LAST\r\n{part2}");
        var done = await h.ReadReplyAsync();
        Assert.Equal(250, done.Code);
        Assert.EndsWith(part1 + part2, Body(h.Store), StringComparison.Ordinal);
        await h.ExpectAsync("NOOP", 250);
    }

    [Fact]
    public async Task A_refused_bdat_still_has_its_chunk_read_so_it_is_not_taken_for_commands()
    {
        await using var h = new SessionHarness();
        await h.StartAsync("HELO old.client");
        await h.SendAsync("BDAT 15\r\nRSET\r\nQUIT\r\nabc");
        Assert.Equal(503, (await h.ReadReplyAsync()).Code);
        await h.ExpectAsync("EHLO again.test", 250);
        await h.SendAsync("BDAT 6 LAST\r\nQUIT\r\n");
        Assert.Equal(503, (await h.ReadReplyAsync()).Code);
        await h.ExpectAsync("NOOP", 250);
        Assert.Empty(h.Store.Committed);
    }

    /// <summary>
    /// A BDAT line whose size cannot be read leaves the chunk's end unknown: were the server to
    /// answer 501 and go on, the chunk's content would run as commands (here, a whole smuggled
    /// transaction). It answers 421 and closes instead.
    /// </summary>
    [Fact]
    public async Task Bdat_framing_attack_a_malformed_bdat_closes_the_session_and_runs_nothing()
    {
        await using var h = new SessionHarness();
        await h.StartTransactionAsync();
        await h.SendAsync("BDAT 80 LAST junk\r\nRSET\r\nMAIL FROM:<admin@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nevil\r\n.\r\n");
        var reply = await h.ReadReplyAsync();
        Assert.Equal(421, reply.Code);
        Assert.Equal(SessionEnd.TooManyErrors, await h.Run);
        Assert.Empty(h.Store.Committed);
    }

    [Theory]
    [InlineData("BDAT 40 LAST\u0001\r\n")]
    [InlineData("BDAT 40 LAST\n")]
    [InlineData("bdat 40 LAST ")]
    public async Task Bdat_framing_attack_a_bdat_line_refused_before_parsing_also_closes_the_session(string bdatLine)
    {
        await using var h = new SessionHarness();
        await h.StartTransactionAsync();
        if (!bdatLine.EndsWith('\n'))
        {
            // Pad past the 512-octet command line limit.
            bdatLine += new string('x', 600) + "\r\n";
        }

        await h.SendAsync(bdatLine + "RSET\r\nNOOP\r\nQUIT\r\n" + new string('y', 20));
        Assert.Equal(421, (await h.ReadReplyAsync()).Code);
        Assert.Equal(SessionEnd.TooManyErrors, await h.Run);
    }

    [Fact]
    public async Task Bdat_framing_attack_invalid_utf8_in_a_bdat_line_closes_the_session()
    {
        await using var h = new SessionHarness();
        await h.StartTransactionAsync();
        await h.SendAsync([.. "BDAT 20 LAST \u00ff"u8.ToArray(), 0xff, 0xfe, .. "\r\nRSET\r\nNOOP\r\nQUIT\r\n"u8.ToArray()]);
        Assert.Equal(421, (await h.ReadReplyAsync()).Code);
        Assert.Equal(SessionEnd.TooManyErrors, await h.Run);
    }

    [Fact]
    public async Task A_bare_cr_at_the_very_end_of_bdat_content_is_refused()
    {
        await using var h = new SessionHarness();
        await h.StartTransactionAsync();
        await h.SendAsync("BDAT 13 LAST\r\nSubject: x\r\n\r");
        Assert.Equal(554, (await h.ReadReplyAsync()).Code);
        Assert.Empty(h.Store.Committed);
    }

    [Theory]
    [InlineData(FaultPoint.Begin, false)]
    [InlineData(FaultPoint.Write, false)]
    [InlineData(FaultPoint.Commit, false)]
    [InlineData(FaultPoint.Write, true)]
    public async Task Bdat_storage_faults_are_answered_on_every_chunk_with_the_reply_first_given(FaultPoint point, bool full)
    {
        await using var h = new SessionHarness();
        h.Store.FailAt = point;
        h.Store.FailAsFull = full;
        await h.StartTransactionAsync();
        var expected = full ? 452 : 451;
        await h.SendAsync("BDAT 5\r\nabc\r\n");
        var first = await h.ReadReplyAsync();
        Assert.Equal(point == FaultPoint.Commit ? 250 : expected, first.Code);
        await h.SendAsync("BDAT 5\r\ndef\r\n");
        Assert.Equal(point == FaultPoint.Commit ? 250 : expected, (await h.ReadReplyAsync()).Code);
        await h.SendAsync("BDAT 5 LAST\r\nghi\r\n");
        Assert.Equal(expected, (await h.ReadReplyAsync()).Code);
        Assert.Empty(h.Store.Committed);
        Assert.Equal(0, h.Store.OpenWriters);
        await h.ExpectAsync("NOOP", 250);
    }

    [Fact]
    public async Task Shutdown_lets_a_bdat_transfer_in_progress_finish()
    {
        await using var h = new SessionHarness();
        await h.StartTransactionAsync();
        await h.SendAsync("BDAT 12\r\nSubject: x\r\n");
        Assert.Equal(250, (await h.ReadReplyAsync()).Code);
        h.BeginShutdown();
        await h.SendAsync("BDAT 6 LAST\r\nbody\r\n");
        Assert.Equal(250, (await h.ReadReplyAsync()).Code);
        Assert.Equal(421, (await h.ReadReplyAsync()).Code);
        Assert.Single(h.Store.Committed);
    }

    [Fact]
    public async Task Harvesting_addresses_hits_the_refused_recipient_budget()
    {
        var options = new SmtpServerOptions { HostName = "mx.test", ReverseDnsLookup = false, MaxRecipientRefusals = 3 };
        await using var h = new SessionHarness(options);
        await h.StartAsync();
        await h.ExpectAsync("MAIL FROM:<s@remote.test>", 250);
        await h.ExpectAsync("RCPT TO:<a@example.test>", 550);
        await h.ExpectAsync("RCPT TO:<alice@example.test>", 250);
        await h.ExpectAsync("RCPT TO:<b@example.test>", 550);
        await h.SendAsync("RCPT TO:<c@example.test>\r\n");
        Assert.Equal(550, (await h.ReadReplyAsync()).Code);
        var closing = await h.ReadReplyAsync();
        Assert.Equal(421, closing.Code);
        Assert.Equal(SessionEnd.TooManyErrors, await h.Run);
    }

    [Fact]
    public async Task Junk_commands_are_budgeted_between_messages()
    {
        var options = new SmtpServerOptions { HostName = "mx.test", ReverseDnsLookup = false, MaxJunkCommands = 3 };
        await using var h = new SessionHarness(options);
        await h.StartAsync();
        await h.ExpectAsync("NOOP", 250);
        await h.ExpectAsync("RSET", 250);
        await h.ExpectAsync("MAIL FROM:<s@remote.test>", 250);
        await h.ExpectAsync("RCPT TO:<alice@example.test>", 250);
        await h.ExpectAsync("DATA", 354);
        await h.ExpectAsync("x\r\n.", 250);

        // An accepted message starts the count again.
        await h.ExpectAsync("NOOP", 250);
        await h.ExpectAsync("VRFY x", 252);
        await h.SendAsync("HELP\r\n");
        Assert.Equal(214, (await h.ReadReplyAsync()).Code);
        Assert.Equal(421, (await h.ReadReplyAsync()).Code);
        Assert.Equal(SessionEnd.TooManyErrors, await h.Run);
    }

    [Fact]
    public async Task A_client_that_stalls_inside_data_is_timed_out_and_nothing_is_stored()
    {
        var options = new SmtpServerOptions { HostName = "mx.test", ReverseDnsLookup = false, DataTimeout = TimeSpan.FromMilliseconds(300) };
        await using var h = new SessionHarness(options);
        await h.StartTransactionAsync();
        await h.ExpectAsync("DATA", 354);
        await h.SendAsync("Subject: stalled\r\n\r\nhalf");
        var reply = await h.ReadReplyAsync();
        Assert.Equal(421, reply.Code);
        Assert.Equal("4.4.2", reply.Enhanced.ToString());
        Assert.Equal(SessionEnd.Timeout, await h.Run);
        Assert.Empty(h.Store.Committed);
        Assert.Equal(0, h.Store.OpenWriters);
    }

    [Fact]
    public async Task An_empty_bdat_last_delivers_an_empty_message()
    {
        await using var h = new SessionHarness();
        await h.StartTransactionAsync();
        await h.ExpectAsync("BDAT 0 LAST", 250);
        Assert.Single(h.Store.Committed);
    }

    [Fact]
    public async Task Bdat_over_the_size_limit_is_refused_for_the_rest_of_the_transfer()
    {
        var options = new SmtpServerOptions { HostName = "mx.test", ReverseDnsLookup = false, MaxMessageSize = 100 };
        await using var h = new SessionHarness(options);
        await h.StartTransactionAsync();
        var chunk = new string('x', 98) + "\r\n";
        await h.SendAsync($"BDAT 100\r\n{chunk}");
        Assert.Equal(250, (await h.ReadReplyAsync()).Code);
        await h.SendAsync($"BDAT 100\r\n{chunk}");
        Assert.Equal(552, (await h.ReadReplyAsync()).Code);
        await h.SendAsync($"BDAT 100 LAST\r\n{chunk}");
        Assert.Equal(552, (await h.ReadReplyAsync()).Code);
        Assert.Empty(h.Store.Committed);
        await h.ExpectAsync("MAIL FROM:<s@remote.test>", 250);
    }

    /// <summary>
    /// The 2023 "SMTP smuggling" attack: a second message hidden behind a terminator that a lax
    /// server accepts (LF.LF, CR.CR, LF.CRLF) but ours does not. The whole transfer is one message,
    /// refused for its bare line endings, and nothing inside it is executed as a command.
    /// </summary>
    [Theory]
    [InlineData("\n.\n")]
    [InlineData("\n.\r\n")]
    [InlineData("\r.\r")]
    [InlineData("\r\n.\n")]
    [InlineData("\r\n.\r")]
    [InlineData("\r.\r\n")]
    public async Task Smtp_smuggling_is_not_possible(string fakeEnd)
    {
        await using var h = new SessionHarness();
        await h.StartTransactionAsync();
        await h.ExpectAsync("DATA", 354);
        await h.SendAsync("Subject: first\r\n\r\nhello" + fakeEnd +
            "MAIL FROM:<admin@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n");
        var reply = await h.ReadReplyAsync();
        Assert.Equal(554, reply.Code);
        Assert.Equal("5.6.0", reply.Enhanced.ToString());
        Assert.Empty(h.Store.Committed);

        // The session is in sync: the next command is answered as the first of a new transaction.
        await h.ExpectAsync("RCPT TO:<bob@example.test>", 503);
        await h.ExpectAsync("MAIL FROM:<s@remote.test>", 250);
    }

    [Fact]
    public async Task A_data_line_over_the_limit_refuses_the_message()
    {
        await using var h = new SessionHarness();
        await h.StartTransactionAsync();
        await h.ExpectAsync("DATA", 354);
        Assert.Equal(554, (await h.CommandAsync(new string('x', 1200) + "\r\n.")).Code);
        Assert.Empty(h.Store.Committed);
    }

    [Theory]
    [InlineData(FaultPoint.Resolve, false, "RCPT")]
    [InlineData(FaultPoint.Begin, false, "DATA")]
    [InlineData(FaultPoint.Write, false, "END")]
    [InlineData(FaultPoint.Commit, false, "END")]
    [InlineData(FaultPoint.Commit, true, "END")]
    public async Task Storage_faults_answer_451_or_452_store_nothing_and_the_session_recovers(FaultPoint point, bool full, string where)
    {
        await using var h = new SessionHarness();
        h.Store.FailAt = point;
        h.Store.FailAsFull = full;
        await h.StartAsync();
        await h.ExpectAsync("MAIL FROM:<s@remote.test>", 250);
        var rcpt = await h.CommandAsync("RCPT TO:<alice@example.test>");
        var failure = rcpt;
        if (where != "RCPT")
        {
            Assert.Equal(250, rcpt.Code);
            var data = await h.CommandAsync("DATA");
            failure = data;
            if (where == "END")
            {
                Assert.Equal(354, data.Code);
                failure = await h.CommandAsync("Subject: x\r\n\r\nbody\r\n.");
            }
        }

        Assert.Equal(full ? 452 : 451, failure.Code);
        Assert.Equal(full ? "4.3.1" : "4.3.0", failure.Enhanced.ToString());
        Assert.DoesNotContain("injected", failure.Lines[0], StringComparison.Ordinal);
        Assert.Empty(h.Store.Committed);
        Assert.Equal(0, h.Store.OpenWriters);

        // The fault clears; the same session delivers.
        h.Store.FailAt = FaultPoint.None;
        await h.ExpectAsync("RSET", 250);
        await h.ExpectAsync("MAIL FROM:<s@remote.test>", 250);
        await h.ExpectAsync("RCPT TO:<alice@example.test>", 250);
        await h.ExpectAsync("DATA", 354);
        await h.ExpectAsync("x\r\n.", 250);
        Assert.Single(h.Store.Committed);
    }

    [Fact]
    public async Task Help_is_generated_from_the_command_table()
    {
        await using var h = new SessionHarness();
        await h.StartAsync();
        var help = await h.ExpectAsync("HELP", 214);
        foreach (var row in Protocol.Commands.CommandTable.All)
        {
            Assert.Contains(help.Lines, l => l.Contains(row.Syntax, StringComparison.Ordinal));
        }

        var mail = await h.ExpectAsync("HELP mail", 214);
        Assert.Equal(Protocol.Commands.CommandTable.Get(Protocol.Commands.SmtpVerb.Mail).Syntax, mail.Lines[0]);
        await h.ExpectAsync("HELP FROB", 504);
    }

    [Fact]
    public async Task Vrfy_is_252_and_expn_is_502()
    {
        await using var h = new SessionHarness();
        await h.StartAsync();
        Assert.Equal("2.5.0", (await h.ExpectAsync("VRFY alice", 252)).Enhanced.ToString());
        await h.ExpectAsync("EXPN staff", 502);
    }

    [Fact]
    public async Task Quit_says_221_and_ends_the_session()
    {
        await using var h = new SessionHarness();
        await h.StartAsync();
        await h.ExpectAsync("MAIL FROM:<s@remote.test>", 250);
        Assert.Equal("2.0.0", (await h.ExpectAsync("QUIT", 221)).Enhanced.ToString());
        Assert.Equal(SessionEnd.Quit, await h.Run);
        await h.Session.DisposeAsync();
        Assert.True(await h.ServerClosedAsync());
    }

    [Fact]
    public async Task An_idle_client_is_timed_out_with_421()
    {
        var options = new SmtpServerOptions { HostName = "mx.test", ReverseDnsLookup = false, CommandTimeout = TimeSpan.FromMilliseconds(300) };
        await using var h = new SessionHarness(options);

        // Nothing after the greeting: an EHLO sent here would race the 300 ms on a loaded machine.
        Assert.Equal(220, (await h.ReadReplyAsync()).Code);
        var reply = await h.ReadReplyAsync();
        Assert.Equal(421, reply.Code);
        Assert.Equal("4.4.2", reply.Enhanced.ToString());
        Assert.Equal(SessionEnd.Timeout, await h.Run);
    }

    [Fact]
    public async Task A_client_that_stops_reading_replies_is_cut_off_after_the_command_timeout()
    {
        var options = new SmtpServerOptions { HostName = "mx.test", ReverseDnsLookup = false, MaxJunkCommands = 100_000 };
        await using var h = new SessionHarness(options);
        await h.StartAsync();

        // Short only now, so that a slow EHLO on a loaded machine cannot be what times out; each
        // wait reads the timeout when it begins, and the flush's wait begins after this.
        options.CommandTimeout = TimeSpan.FromMilliseconds(300);

        // Pipelined NOOPs whose replies, never read, pass the reply pipe's 64 KiB pause
        // threshold: the server's flush waits, and only the timeout can end the wait.
        await h.SendAsync(string.Concat(Enumerable.Repeat("NOOP\r\n", 8000)));
        Assert.Equal(SessionEnd.Timeout, await h.Run.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Shutdown_answers_an_idle_session_with_421_4_3_2()
    {
        await using var h = new SessionHarness();
        await h.StartAsync();
        h.BeginShutdown();
        var reply = await h.ReadReplyAsync();
        Assert.Equal(421, reply.Code);
        Assert.Equal("4.3.2", reply.Enhanced.ToString());
        Assert.Equal(SessionEnd.Shutdown, await h.Run);
    }

    [Fact]
    public async Task Shutdown_lets_a_transfer_in_progress_finish_then_says_421()
    {
        await using var h = new SessionHarness();
        await h.StartTransactionAsync();
        await h.ExpectAsync("DATA", 354);
        await h.SendAsync("Subject: late\r\n\r\npart one\r\n");
        h.BeginShutdown();
        await h.SendAsync("part two\r\n.\r\n");
        Assert.Equal(250, (await h.ReadReplyAsync()).Code);
        Assert.Equal(421, (await h.ReadReplyAsync()).Code);
        Assert.Single(h.Store.Committed);
    }

    [Fact]
    public async Task A_transfer_still_running_when_the_grace_period_ends_is_cut_and_nothing_is_stored()
    {
        await using var h = new SessionHarness();
        await h.StartTransactionAsync();
        await h.ExpectAsync("DATA", 354);
        await h.SendAsync("Subject: slow\r\n\r\nnever finished\r\n");
        h.HardStop();
        var reply = await h.ReadReplyAsync();
        Assert.Equal(421, reply.Code);
        Assert.Equal("4.3.2", reply.Enhanced.ToString());
        Assert.Equal(SessionEnd.Shutdown, await h.Run);
        Assert.Empty(h.Store.Committed);
        Assert.Equal(0, h.Store.OpenWriters);
    }

    [Fact]
    public async Task A_client_that_disconnects_inside_data_leaves_nothing_behind()
    {
        await using var h = new SessionHarness();
        await h.StartTransactionAsync();
        await h.ExpectAsync("DATA", 354);
        await h.SendAsync("Subject: cut\r\n\r\nhalf a mess");
        h.CloseClient();
        Assert.Equal(SessionEnd.ClientClosed, await h.Run);
        Assert.Empty(h.Store.Committed);
        Assert.Equal(0, h.Store.OpenWriters);
    }

    [Fact]
    public async Task Helo_in_the_middle_of_a_transaction_resets_it()
    {
        await using var h = new SessionHarness();
        await h.StartAsync();
        await h.ExpectAsync("MAIL FROM:<s@remote.test>", 250);
        await h.ExpectAsync("EHLO again.test", 250);
        await h.ExpectAsync("RCPT TO:<alice@example.test>", 503);
    }
}
