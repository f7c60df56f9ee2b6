using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;

namespace Mailroom.Protocol.Tests;

public class CommandTableTests
{
    [Fact]
    public void Every_verb_has_one_row()
    {
        Assert.Equal(Enum.GetValues<SmtpVerb>().Order(), CommandTable.All.Select(r => r.Verb).Order());
    }

    [Theory]
    [InlineData(SmtpVerb.Mail, SmtpState.Connected, nameof(ReplyCatalogue.NeedHelo))]
    [InlineData(SmtpVerb.Mail, SmtpState.MailGiven, nameof(ReplyCatalogue.NestedMail))]
    [InlineData(SmtpVerb.Rcpt, SmtpState.Greeted, nameof(ReplyCatalogue.NeedMail))]
    [InlineData(SmtpVerb.Data, SmtpState.MailGiven, nameof(ReplyCatalogue.NeedRcpt))]
    [InlineData(SmtpVerb.Data, SmtpState.Chunking, nameof(ReplyCatalogue.ChunkingInProgress))]
    [InlineData(SmtpVerb.Mail, SmtpState.Chunking, nameof(ReplyCatalogue.ChunkingInProgress))]
    [InlineData(SmtpVerb.Bdat, SmtpState.Greeted, nameof(ReplyCatalogue.NeedRcpt))]
    public void Out_of_sequence_is_503_with_the_reason(SmtpVerb verb, SmtpState state, string expected)
    {
        var reply = CommandTable.CheckSequence(verb, state);
        Assert.NotNull(reply);
        Assert.Equal(503, reply.Code);
        Assert.Same(ReplyCatalogue.All.Single(e => e.Name == expected).Template.Reply, reply);
    }

    [Fact]
    public void Bdat_needs_ehlo()
    {
        var reply = CommandTable.CheckSequence(SmtpVerb.Bdat, SmtpState.RcptGiven, extended: false);
        Assert.Equal(503, reply!.Code);
        Assert.Contains("BDAT needs EHLO", reply.Lines[0], StringComparison.Ordinal);
        Assert.Null(CommandTable.CheckSequence(SmtpVerb.Data, SmtpState.RcptGiven, extended: false));
    }

    [Theory]
    [InlineData(SmtpVerb.Ehlo, SmtpState.Connected)]
    [InlineData(SmtpVerb.Helo, SmtpState.RcptGiven)]
    [InlineData(SmtpVerb.Mail, SmtpState.Greeted)]
    [InlineData(SmtpVerb.Rcpt, SmtpState.MailGiven)]
    [InlineData(SmtpVerb.Rcpt, SmtpState.RcptGiven)]
    [InlineData(SmtpVerb.Data, SmtpState.RcptGiven)]
    [InlineData(SmtpVerb.Bdat, SmtpState.Chunking)]
    [InlineData(SmtpVerb.Rset, SmtpState.Chunking)]
    [InlineData(SmtpVerb.Quit, SmtpState.Connected)]
    [InlineData(SmtpVerb.Noop, SmtpState.Chunking)]
    public void Legal_sequences_pass(SmtpVerb verb, SmtpState state)
    {
        Assert.Null(CommandTable.CheckSequence(verb, state));
    }
}
