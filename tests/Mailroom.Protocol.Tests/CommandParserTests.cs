using System.Text;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;

namespace Mailroom.Protocol.Tests;

public class CommandParserTests
{
    private static CommandParseResult Parse(string line) => CommandParser.Parse(Encoding.UTF8.GetBytes(line));

    private static T Ok<T>(string line)
        where T : SmtpCommand
    {
        var result = Parse(line);
        Assert.Null(result.Error);
        return Assert.IsType<T>(result.Command);
    }

    private static SmtpReply Fails(string line)
    {
        var result = Parse(line);
        Assert.Null(result.Command);
        return Assert.IsType<SmtpReply>(result.Error);
    }

    [Theory]
    [InlineData("EHLO client.example", SmtpVerb.Ehlo, "client.example")]
    [InlineData("ehlo [127.0.0.1]", SmtpVerb.Ehlo, "[127.0.0.1]")]
    [InlineData("HELO old-client", SmtpVerb.Helo, "old-client")]
    [InlineData("HeLo  spaced ", SmtpVerb.Helo, "spaced")]
    public void Greetings_keep_the_client_identity(string line, SmtpVerb verb, string identity)
    {
        var command = Ok<HeloCommand>(line);
        Assert.Equal(verb, command.Verb);
        Assert.Equal(identity, command.ClientIdentity);
    }

    [Theory]
    [InlineData("EHLO")]
    [InlineData("EHLO ")]
    [InlineData("HELO two words")]
    public void Greetings_without_one_identity_are_syntax_errors(string line)
    {
        var reply = Fails(line);
        Assert.Equal(501, reply.Code);
        Assert.Equal("5.5.4", reply.Enhanced.ToString());
    }

    [Fact]
    public void Mail_from_with_parameters()
    {
        var mail = Ok<MailCommand>("MAIL FROM:<alice@example.com> SIZE=1000 BODY=8BITMIME");
        Assert.Equal("alice", mail.Sender!.LocalPart);
        Assert.Equal("example.com", mail.Sender.Domain);
        Assert.Equal(["SIZE", "BODY"], mail.Parameters.Select(p => p.Keyword));
        Assert.Equal(["1000", "8BITMIME"], mail.Parameters.Select(p => p.Value));
    }

    [Fact]
    public void Parameters_keep_the_client_spelling_and_a_line_past_512_octets_is_read_whole()
    {
        var padding = string.Join(' ', Enumerable.Range(0, 60).Select(i => $"X-P{i}=v{i}"));
        var mail = Ok<MailCommand>($"MAIL FROM:<\"a b\"@d\u00e9.example> size=7 Body=8bitmime {padding}");

        Assert.Equal("\"a b\"", mail.Sender!.LocalPart);
        Assert.Equal("d\u00e9.example", mail.Sender.Domain);
        Assert.Equal("<\"a b\"@d\u00e9.example>", mail.RawPath);
        Assert.Equal(["size", "Body", "X-P0"], mail.Parameters.Take(3).Select(p => p.Keyword));
        Assert.Equal(["7", "8bitmime", "v0"], mail.Parameters.Take(3).Select(p => p.Value));
        Assert.Equal("v59", mail.Parameters[^1].Value);
    }

    [Theory]
    [InlineData("MAIL FROM:<>")]
    [InlineData("mail from:<>")]
    [InlineData("MAIL FROM: <>")]
    public void The_null_reverse_path_is_accepted(string line)
    {
        Assert.Null(Ok<MailCommand>(line).Sender);
    }

    [Fact]
    public void A_source_route_is_parsed_and_ignored()
    {
        var mail = Ok<MailCommand>("MAIL FROM:<@relay.example,@other.example:bob@example.org>");
        Assert.Equal("bob@example.org", mail.Sender!.ToString());
    }

    [Theory]
    [InlineData("MAIL FROM:alice@example.com")]
    [InlineData("MAIL FROM:<alice@example.com")]
    [InlineData("MAIL FROM:<alice>")]
    [InlineData("MAIL FROM:<alice@>")]
    [InlineData("MAIL FROM:<@example.com>")]
    [InlineData("MAIL FROM:<alice..b@example.com>")]
    [InlineData("MAIL FROM:<alice@-example.com>")]
    [InlineData("MAIL FROM:<alice@example-.com>")]
    [InlineData("MAIL FROM:<a b@example.com>")]
    public void Bad_sender_paths_get_501_5_1_7(string line)
    {
        var reply = Fails(line);
        Assert.Equal(501, reply.Code);
        Assert.Equal("5.1.7", reply.Enhanced.ToString());
    }

    [Fact]
    public void A_local_part_over_64_octets_is_refused()
    {
        Assert.Equal(501, Fails($"MAIL FROM:<{new string('a', 65)}@example.com>").Code);
        Ok<MailCommand>($"MAIL FROM:<{new string('a', 64)}@example.com>");
    }

    [Theory]
    [InlineData("MAIL TO:<a@b.c>")]
    [InlineData("MAIL <a@b.c>")]
    [InlineData("MAIL FROM:<a@b.c>SIZE=1")]
    [InlineData("MAIL FROM:<a@b.c> =1")]
    [InlineData("MAIL FROM:<a@b.c> SIZE=")]
    [InlineData("MAIL FROM:<a@b.c> SI_ZE=1")]
    public void Malformed_mail_commands_are_501(string line)
    {
        Assert.Equal(501, Fails(line).Code);
    }

    [Theory]
    [InlineData("RCPT TO:<bob@example.com>", "bob", "example.com")]
    [InlineData("RCPT TO:<\"john doe\"@example.com>", "\"john doe\"", "example.com")]
    [InlineData("RCPT TO:<bob@[192.0.2.1]>", "bob", "[192.0.2.1]")]
    [InlineData("RCPT TO:<bob@[IPv6:2001:db8::1]>", "bob", "[IPv6:2001:db8::1]")]
    [InlineData("RCPT TO:<Postmaster>", "Postmaster", "")]
    [InlineData("RCPT TO:<postmaster>", "postmaster", "")]
    [InlineData("RCPT TO:<用户@例子.广告>", "用户", "例子.广告")]
    public void Recipients(string line, string local, string domain)
    {
        var rcpt = Ok<RcptCommand>(line);
        Assert.Equal(local, rcpt.Recipient.LocalPart);
        Assert.Equal(domain, rcpt.Recipient.Domain);
    }

    [Theory]
    [InlineData("RCPT TO:<>")]
    [InlineData("RCPT TO:<bob>")]
    [InlineData("RCPT TO:<bob@[300.1.1.1]>")]
    [InlineData("RCPT TO:<bob@[1.2.3]>")]
    public void Bad_recipients_get_501_5_1_3(string line)
    {
        var reply = Fails(line);
        Assert.Equal(501, reply.Code);
        Assert.Equal("5.1.3", reply.Enhanced.ToString());
    }

    [Theory]
    [InlineData("BDAT 0 LAST", 0, true)]
    [InlineData("BDAT 1000", 1000, false)]
    [InlineData("bdat 42 last", 42, true)]
    public void Bdat(string line, long size, bool last)
    {
        var bdat = Ok<BdatCommand>(line);
        Assert.Equal(size, bdat.ChunkSize);
        Assert.Equal(last, bdat.Last);
    }

    [Theory]
    [InlineData("BDAT")]
    [InlineData("BDAT -1")]
    [InlineData("BDAT 1 FIRST")]
    [InlineData("BDAT 99999999999999999999")]
    [InlineData("BDAT 1 LAST extra")]
    public void Bad_bdat_is_fatal_because_the_chunk_cannot_be_found(string line)
    {
        var result = Parse(line);
        Assert.True(result.Fatal);
        Assert.Equal(421, result.Error!.Code);
    }

    [Theory]
    [InlineData("DATA", SmtpVerb.Data)]
    [InlineData("rset", SmtpVerb.Rset)]
    [InlineData("QUIT", SmtpVerb.Quit)]
    [InlineData("NOOP", SmtpVerb.Noop)]
    [InlineData("NOOP anything at all", SmtpVerb.Noop)]
    public void Simple_commands(string line, SmtpVerb verb)
    {
        Assert.Equal(verb, Ok<SimpleCommand>(line).Verb);
    }

    [Theory]
    [InlineData("DATA now")]
    [InlineData("QUIT please")]
    [InlineData("VRFY")]
    [InlineData("EXPN ")]
    public void Arguments_where_none_belong_or_missing_where_required_are_501(string line)
    {
        Assert.Equal(501, Fails(line).Code);
    }

    [Theory]
    [InlineData("FOO")]
    [InlineData("")]
    [InlineData("MAILFROM:<a@b.c>")]
    [InlineData("GET / HTTP/1.1")]
    [InlineData("NO\u0131P")] // dotless i: the verb is looked up from bytes, and no non-ASCII letter matches an ASCII one
    [InlineData("\u017FTARTTLS")] // long s
    [InlineData("NOOPNOOPNOOPNOOPNOOPNOOPNOOPNOOPNOOPNOOPNOOPNOOPNOOPNOOPNOOPNOOPNOOP")] // longer than the stack copy of a verb
    [InlineData("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9")]
    public void Unknown_verbs_are_500_5_5_1(string line)
    {
        var reply = Fails(line);
        Assert.Equal(500, reply.Code);
        Assert.Equal("5.5.1", reply.Enhanced.ToString());
    }

    [Theory]
    [InlineData(new byte[] { (byte)'N', (byte)'O', (byte)'O', (byte)'P', 0 })]
    [InlineData(new byte[] { (byte)'N', (byte)'O', (byte)'O', (byte)'P', (byte)' ', (byte)'\r', (byte)'x' })]
    [InlineData(new byte[] { (byte)'N', (byte)'O', (byte)'O', (byte)'P', (byte)' ', 0xff, 0xfe })]
    [InlineData(new byte[] { (byte)'D', (byte)'A', (byte)'T', (byte)'A', (byte)' ', 0xc0, 0xa0 })] // overlong space: invalid even where arguments are not decoded
    [InlineData(new byte[] { (byte)'M', (byte)'A', (byte)'I', (byte)'L', 0xed, 0xa0, 0x80 })] // a surrogate
    public void Control_characters_and_invalid_utf8_are_500_5_5_2(byte[] line)
    {
        var result = CommandParser.Parse(line);
        Assert.Equal(500, result.Error!.Code);
        Assert.Equal("5.5.2", result.Error.Enhanced.ToString());
    }

    private const string Alphabet = "<>@.:\"\\[]= abcAZ09-";

    [Theory]
    [InlineData("BDAT", true)]
    [InlineData("bdat 10", true)]
    [InlineData("BDAT\u0001", false)]
    [InlineData("BDATX 10", false)]
    [InlineData("BDA", false)]
    public void Bdat_lines_are_recognised_however_malformed(string line, bool bdat)
    {
        Assert.Equal(bdat, CommandParser.IsBdatLine(Encoding.UTF8.GetBytes(line)));
    }

    [Fact]
    public void A_bdat_line_with_a_control_character_is_fatal()
    {
        var result = Parse("BDAT 10\u0001");
        Assert.True(result.Fatal);
        Assert.Equal(421, result.Error!.Code);
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var random = new Random(1234);
        var verbs = new[] { "MAIL FROM:", "RCPT TO:", "EHLO ", "BDAT ", "HELP ", "VRFY " };
        for (var i = 0; i < 20_000; i++)
        {
            var prefix = Encoding.ASCII.GetBytes(verbs[i % verbs.Length]);
            var tail = new byte[random.Next(0, 80)];
            random.NextBytes(tail);
            for (var j = 0; j < tail.Length; j++)
            {
                // Mostly printable, sometimes not: both must give a command or a reply.
                if (random.Next(4) != 0)
                {
                    tail[j] = (byte)Alphabet[tail[j] % Alphabet.Length];
                }
            }

            var result = CommandParser.Parse([.. prefix, .. tail]);
            Assert.True(result.Command is not null ^ result.Error is not null);
        }
    }
}
