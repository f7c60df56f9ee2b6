using Mailroom.Core.Audit;

namespace Mailroom.Core.Tests.Audit;

public sealed class AuditFilterTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private static AuditRecord Record(
        string kind = AuditKinds.Command, string? user = "alice@example.com", string? session = "s1",
        string? client = "192.0.2.1:40000", string? mailbox = null, DateTimeOffset? at = null) =>
        new(1, at ?? Noon, "node-a", "server", new AuditEvent
        {
            Kind = kind,
            Outcome = AuditOutcome.Ok,
            User = user,
            Session = session,
            Client = client,
            Mailbox = mailbox,
        }, "f.jsonl", 1, null);

    private static readonly AuditRecord Unreadable = new(2, Noon, "node-a", "server", null, "f.jsonl", 2, "no key 1a2b3c4d5e6f7a8b for aes-256-gcm");

    [Fact]
    public void The_time_range_includes_its_start_and_excludes_its_end()
    {
        var filter = new AuditFilter { From = Noon, To = Noon.AddHours(1) };

        Assert.True(filter.Matches(Record(at: Noon)));
        Assert.True(filter.Matches(Record(at: Noon.AddMinutes(59))));
        Assert.False(filter.Matches(Record(at: Noon.AddHours(1))));
        Assert.False(filter.Matches(Record(at: Noon.AddTicks(-1))));
    }

    [Fact]
    public void User_and_mailbox_ignore_case_and_session_does_not()
    {
        Assert.True(new AuditFilter { User = "ALICE@example.com" }.Matches(Record()));
        Assert.False(new AuditFilter { User = "bob@example.com" }.Matches(Record()));
        Assert.True(new AuditFilter { Mailbox = "Sales@Example.com" }.Matches(Record(mailbox: "sales@example.com")));
        Assert.False(new AuditFilter { Mailbox = "sales@example.com" }.Matches(Record(mailbox: null)));
        Assert.True(new AuditFilter { Session = "s1" }.Matches(Record()));
        Assert.False(new AuditFilter { Session = "S1" }.Matches(Record()));
    }

    [Theory]
    [InlineData("192.0.2.1:40000", "192.0.2.1", true)]
    [InlineData("192.0.2.1:40000", "192.0.2.1:40000", true)]
    [InlineData("192.0.2.1:40000", "192.0.2.1:40001", false)]
    [InlineData("192.0.2.1:40000", "192.0.2.10", false)]
    [InlineData("[2001:db8::1]:25", "2001:db8::1", true)]
    [InlineData("[2001:db8::1]:25", "[2001:db8::1]", true)]
    [InlineData("[2001:db8::1]:25", "2001:DB8:0:0::1", true)]
    [InlineData("[2001:db8::1]:25", "[2001:db8::1]:26", false)]
    [InlineData("[::ffff:192.0.2.1]:25", "192.0.2.1", true)]
    [InlineData("local", "local", true)]
    [InlineData(null, "192.0.2.1", false)]
    public void A_client_address_matches_with_or_without_its_port(string? client, string wanted, bool matches)
    {
        Assert.Equal(matches, new AuditFilter { Client = wanted }.Matches(Record(client: client)));
    }

    [Theory]
    [InlineData("mailbox", AuditKinds.MailboxDelete, true)]
    [InlineData("mailbox", AuditKinds.MailboxOpen, true)]
    [InlineData("mailbox.delete", AuditKinds.MailboxDelete, true)]
    [InlineData("mailbox.delete", AuditKinds.MailboxOpen, false)]
    [InlineData("mail", AuditKinds.MailboxOpen, false)]
    [InlineData("message", AuditKinds.Message, true)]
    [InlineData("audit", AuditKinds.LogStart, true)]
    public void A_kind_without_a_dot_matches_its_sub_kinds(string wanted, string kind, bool matches)
    {
        Assert.Equal(matches, new AuditFilter { Kinds = [wanted] }.Matches(Record(kind: kind)));
    }

    [Fact]
    public void Any_of_several_kinds_matches_and_every_criterion_must_hold()
    {
        var filter = new AuditFilter { Kinds = ["login", "message"], User = "alice@example.com" };

        Assert.True(filter.Matches(Record(kind: AuditKinds.Login)));
        Assert.True(filter.Matches(Record(kind: AuditKinds.Message)));
        Assert.False(filter.Matches(Record(kind: AuditKinds.Command)));
        Assert.False(filter.Matches(Record(kind: AuditKinds.Login, user: "bob@example.com")));
    }

    [Fact]
    public void An_unreadable_entry_is_not_hidden_by_event_criteria_unless_asked()
    {
        Assert.True(new AuditFilter { User = "alice@example.com" }.Matches(Unreadable));
        Assert.False(new AuditFilter { User = "alice@example.com", IncludeUnreadable = false }.Matches(Unreadable));
        Assert.True(new AuditFilter { IncludeUnreadable = false }.Matches(Unreadable));
        Assert.False(new AuditFilter { From = Noon.AddSeconds(1) }.Matches(Unreadable));
    }
}
