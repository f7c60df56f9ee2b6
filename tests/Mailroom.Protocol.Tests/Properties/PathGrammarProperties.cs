using System.Text;
using Mailroom.Protocol.Addressing;

namespace Mailroom.Protocol.Tests.Properties;

/// <summary>
/// <see cref="PathGrammar"/> and <see cref="SmtpMailbox"/>: hostile text never throws, and a mailbox
/// written back as <c>"&lt;" mailbox "&gt;"</c> reads back as the same mailbox (RFC 5321 4.1.2,
/// with RFC 6531 3.3's UTF-8).
/// </summary>
public sealed class PathGrammarProperties
{
    private const int Cases = 4000;

    private const string Atext = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~";

    private static readonly string[] NonAscii = ["é", "ü", "日", "本", "Ж", "😀", "ß", "ı"];

    private static readonly string[] Hostile =
    [
        "<", ">", "<>", "@", ".", "..", ",", ":", "\"", "\\", "[", "]", "IPv6:", "IPv4:", "::", "-", " ", "\t", "\0", "\r\n", "\x7f",
        "a", "b.example", "@r.example", "[1.2.3.4]", "[300.1.1.1]", "[IPv6:::1]", "[IPv6:fe80::1%eth0]", "[x-tag:abc]", "postmaster",
        "é", "😀", "\ud800", "\udc00", new string('a', 70), new string('b', 300),
    ];

    internal static string Atom(Random random, bool utf8)
    {
        var builder = new StringBuilder();
        var length = random.Next(1, 8);
        for (var i = 0; i < length; i++)
        {
            builder.Append(utf8 && random.Next(5) == 0 ? random.Pick(NonAscii) : Atext[random.Next(Atext.Length)].ToString());
        }

        return builder.ToString();
    }

    /// <summary><c>Local-part = Dot-string / Quoted-string</c>.</summary>
    internal static string LocalPart(Random random, bool utf8)
    {
        if (random.Next(3) > 0)
        {
            return string.Join('.', Enumerable.Range(0, random.Next(1, 4)).Select(_ => Atom(random, utf8)));
        }

        // Quoted-string: qtextSMTP (%d32-33 / %d35-91 / %d93-126) and quoted-pairSMTP (%d92 %d32-126).
        var builder = new StringBuilder("\"");
        var length = random.Next(0, 12);
        for (var i = 0; i < length; i++)
        {
            var c = (char)random.Next(32, 127);
            if (c is '"' or '\\' || random.Next(6) == 0)
            {
                builder.Append('\\').Append((char)random.Next(32, 127));
            }
            else
            {
                builder.Append(utf8 && random.Next(6) == 0 ? random.Pick(NonAscii) : c.ToString());
            }
        }

        return builder.Append('"').ToString();
    }

    /// <summary><c>Domain = sub-domain *("." sub-domain)</c>, or an address literal.</summary>
    internal static string Domain(Random random, bool utf8)
    {
        switch (random.Next(8))
        {
            case 0:
                return $"[{random.Next(256)}.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}]";
            case 1:
                return "[IPv6:" + random.Pick(["::1", "2001:db8::7", "fe80:0:0:0:200:f8ff:fe21:67cf", "::ffff:192.0.2.1", "1:2:3:4:5:6:7:8"]) + "]";
            case 2:
                return "[" + random.Pick(["x-tag", "a", "Z9"]) + ":" + new string([.. Enumerable.Range(0, random.Next(1, 10)).Select(_ => (char)random.Pick(Dcontent))]) + "]";
        }

        const string letDig = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        return string.Join('.', Enumerable.Range(0, random.Next(1, 4)).Select(_ =>
        {
            var label = new StringBuilder();
            var length = random.Next(1, 10);
            for (var i = 0; i < length; i++)
            {
                var inner = i > 0 && i < length - 1;
                label.Append(utf8 && random.Next(5) == 0 ? random.Pick(["é", "日", "Ж", "ü"])
                    : inner && random.Next(4) == 0 ? "-"
                    : letDig[random.Next(letDig.Length)].ToString());
            }

            return label.ToString();
        }));
    }

    /// <summary>dcontent = %d33-90 / %d94-126 (RFC 5321 4.1.3).</summary>
    private static readonly int[] Dcontent = [.. Enumerable.Range(33, 126 - 33 + 1).Where(c => c is < 91 or > 93)];

    internal static string HostilePath(Random random)
    {
        var builder = new StringBuilder();
        var count = random.Next(10);
        for (var i = 0; i < count; i++)
        {
            builder.Append(random.Next(4) switch
            {
                0 => random.Pick(Hostile),
                1 => Atom(random, utf8: true),
                2 => Domain(random, utf8: random.Next(2) == 0),
                _ => ((char)random.Next(0, 0x3000)).ToString(),
            });
        }

        return builder.ToString();
    }

    [Fact]
    public void Hostile_paths_never_throw_and_a_match_ends_inside_the_text()
    {
        Property.ForAll(6531, Cases, random =>
        {
            var text = HostilePath(random);
            var start = random.Next(text.Length + 1);
            var utf8 = random.Next(2) == 0;
            foreach (var end in new[]
            {
                PathGrammar.TryParseReversePath(text, start, utf8, out var reverse),
                PathGrammar.TryParseForwardPath(text, start, utf8, out var forward),
                PathGrammar.TryParsePath(text, start, utf8, out var path),
                PathGrammar.TryParseMailbox(text, start, utf8, out var mailbox),
                PathGrammar.TryParseDomain(text, start, utf8),
                PathGrammar.TryParseAddressLiteral(text, start),
                PathGrammar.TryParseLocalPart(text, start, utf8),
            })
            {
                Assert.True(end == -1 || (end > start && end <= text.Length), $"end {end} for start {start} in '{text}'");
            }
        });
    }

    [Fact]
    public void Any_mailbox_read_from_hostile_text_reads_back_the_same_when_written_out()
    {
        var parsed = 0;
        Property.ForAll(5322, Cases, random =>
        {
            // Random text with a path's brackets around it, so that some of it parses.
            var text = "<" + HostilePath(random) + "@" + Domain(random, utf8: true) + ">";
            if (PathGrammar.TryParseForwardPath(text, 0, allowUtf8: true, out var mailbox) > 0 && mailbox is not null)
            {
                parsed++;
                AssertRoundTrip(mailbox, allowUtf8: true);
            }
        });

        // Not vacuous: enough of the hostile text is a mailbox for the round trip to mean something.
        Assert.True(parsed > Cases / 20, $"only {parsed} of {Cases} parsed");
    }

    [Fact]
    public void A_valid_mailbox_written_out_reads_back_as_the_same_mailbox()
    {
        Property.ForAll(6532, Cases, random =>
        {
            var utf8 = random.Next(2) == 0;
            var local = LocalPart(random, utf8);
            var domain = Domain(random, utf8);
            var expected = new SmtpMailbox(local, domain);
            var text = "<" + expected + ">";
            var end = PathGrammar.TryParsePath(text, 0, utf8, out var parsed);
            if (Encoding.UTF8.GetByteCount(local) > PathGrammar.MaxLocalPartOctets)
            {
                // RFC 5321 4.5.3.1.1: "The maximum total length of a user name or other local-part is 64 octets."
                Assert.Equal(-1, end);
                return;
            }

            Assert.True(end == text.Length, $"'{text}' did not parse ({end})");
            Assert.Equal(expected, parsed);
            AssertRoundTrip(parsed!, utf8);

            // RFC 5321 4.1.1.3: a source route is parsed and ignored.
            var routed = "<@relay.example,@mx2.example:" + expected + ">";
            if (Encoding.UTF8.GetByteCount(routed) <= PathGrammar.MaxPathOctets)
            {
                Assert.Equal(routed.Length, PathGrammar.TryParseReversePath(routed, 0, utf8, out var viaRoute));
                Assert.Equal(expected, viaRoute);
            }

            // RFC 6531 3.3: without SMTPUTF8 only ASCII is a mailbox.
            if (expected.IsInternational)
            {
                Assert.Equal(-1, PathGrammar.TryParsePath(text, 0, allowUtf8: false, out _));
            }
        });
    }

    private static void AssertRoundTrip(SmtpMailbox mailbox, bool allowUtf8)
    {
        var text = "<" + mailbox + ">";
        var end = PathGrammar.TryParseForwardPath(text, 0, allowUtf8, out var again);
        Assert.True(end == text.Length, $"'{text}' written back from a parsed mailbox did not parse ({end})");
        Assert.Equal(mailbox, again);
    }
}
