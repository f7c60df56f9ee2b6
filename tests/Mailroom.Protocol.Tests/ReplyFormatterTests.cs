using System.Buffers;
using System.Globalization;
using System.Text;
using Mailroom.Protocol.Replies;

namespace Mailroom.Protocol.Tests;

public sealed class ReplyFormatterTests
{
    public static TheoryData<string> Entries() => [.. ReplyCatalogue.All.Select(e => e.Name)];

    [Theory]
    [MemberData(nameof(Entries))]
    public void Every_catalogue_entry_is_written_as_code_separator_enhanced_code_and_text(string name)
    {
        var template = ReplyCatalogue.All.Single(e => e.Name == name).Template;
        var reply = template.WithLines(["first", "zweite Zeile: äöü", "last \U0001F4EC"]);

        Assert.Equal(Expected(reply), Written(reply));
    }

    [Fact]
    public void Writing_a_fixed_reply_allocates_nothing()
    {
        var output = new ArrayBufferWriter<byte>(1024);
        SmtpReply reply = ReplyCatalogue.StartMailInput;
        SmtpReply enhanced = ReplyCatalogue.Ok;
        for (var i = 0; i < 100; i++)
        {
            output.ResetWrittenCount();
            ReplyFormatter.Write(reply, output);
            ReplyFormatter.Write(enhanced, output);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            output.ResetWrittenCount();
            ReplyFormatter.Write(reply, output);
            ReplyFormatter.Write(enhanced, output);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal("354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 OK\r\n", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    private static string Written(SmtpReply reply)
    {
        var output = new ArrayBufferWriter<byte>();
        ReplyFormatter.Write(reply, output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>RFC 5321 4.2.1 and RFC 2034 section 4, spelled out with strings.</summary>
    private static string Expected(SmtpReply reply)
    {
        var text = new StringBuilder();
        for (var i = 0; i < reply.Lines.Count; i++)
        {
            var separator = i == reply.Lines.Count - 1 ? ' ' : '-';
            var enhanced = reply.Enhanced is { } code ? code + " " : string.Empty;
            text.Append(CultureInfo.InvariantCulture, $"{reply.Code}{separator}{enhanced}{reply.Lines[i]}\r\n");
        }

        return text.ToString();
    }
}
