using System.Text.RegularExpressions;
using Mailroom.Protocol.Replies;

namespace Mailroom.Protocol.Tests;

public partial class ReplyCatalogueTests
{
    public static TheoryData<string> Names() => [.. ReplyCatalogue.All.Select(e => e.Name)];

    private static ReplyTemplate Entry(string name) => ReplyCatalogue.All.Single(e => e.Name == name).Template;

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_entry_is_well_formed(string name)
    {
        var entry = Entry(name);
        Assert.InRange(entry.Code, 200, 599);
        Assert.False(string.IsNullOrWhiteSpace(entry.Text));
        Assert.DoesNotContain('\r', entry.Text);
        Assert.DoesNotContain('\n', entry.Text);
        if (entry.Enhanced is { } enhanced)
        {
            // RFC 2034 section 4 / RFC 3463 section 2: the class agrees with the reply code's first digit.
            Assert.Equal(entry.Code / 100, enhanced.Class);
        }
        else
        {
            // Only the greeting, the replies to HELO/EHLO and 3xx replies go without (RFC 2034 section 4).
            Assert.True(
                entry.Code / 100 == 3 || name is nameof(ReplyCatalogue.ServiceReady) or nameof(ReplyCatalogue.HeloOk) or nameof(ReplyCatalogue.EhloOk),
                $"{name} ({entry.Code}) has no enhanced status code");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_entry_formats_to_a_reply_line_that_parses_back(string name)
    {
        var entry = Entry(name);
        var args = Enumerable.Range(0, entry.Arity).Select(i => (object)("arg" + i)).ToArray();
        var wire = entry.Format(args).ToString();
        var match = WireLine().Match(wire);
        Assert.True(match.Success, wire);
        Assert.Equal(entry.Code.ToString(System.Globalization.CultureInfo.InvariantCulture), match.Groups["code"].Value);
        Assert.Equal(entry.Enhanced?.ToString() ?? string.Empty, match.Groups["enh"].Value);
    }

    [Fact]
    public void Multi_line_replies_use_dash_on_all_but_the_last_line()
    {
        var reply = ReplyCatalogue.Help.WithLines(["one", "two", "three"]);
        Assert.Equal("214-2.0.0 one\r\n214-2.0.0 two\r\n214 2.0.0 three\r\n", reply.ToString());
    }

    [Fact]
    public void Arguments_cannot_inject_reply_lines()
    {
        var reply = ReplyCatalogue.MailboxUnknown.Format("a\r\n250 2.0.0 fake");
        Assert.Single(reply.Lines);
        Assert.DoesNotContain("\r\n250", reply.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unwritable_audit_log_is_a_temporary_local_error()
    {
        // RFC 5321 4.2.3 and RFC 3463 3.4: 451 "local error in processing", 4.3.0 "other or
        // undefined mail system status"; a client retries later rather than giving up.
        Assert.Equal("451 4.3.0 Requested action aborted: local error in processing\r\n", ReplyCatalogue.AuditUnavailable.Reply.ToString());
    }

    [Fact]
    public void Entries_with_holes_refuse_to_be_sent_without_arguments()
    {
        Assert.Throws<InvalidOperationException>(() => ReplyCatalogue.MailboxUnknown.Reply);
    }

    [Theory]
    [InlineData("2.0.0", true)]
    [InlineData("5.1.1", true)]
    [InlineData("4.7.123", true)]
    [InlineData("3.0.0", false)]
    [InlineData("5.1", false)]
    [InlineData("5.1.1.1", false)]
    [InlineData("5.1234.1", false)]
    [InlineData("x.1.1", false)]
    public void Enhanced_codes_parse_only_when_rfc3463_allows(string text, bool ok)
    {
        Assert.Equal(ok, EnhancedStatusCode.TryParse(text, out _));
    }

    [GeneratedRegex(@"^(?<code>[2-5]\d\d) ((?<enh>[245]\.\d{1,3}\.\d{1,3}) )?[^\r\n]+\r\n$")]
    private static partial Regex WireLine();
}
