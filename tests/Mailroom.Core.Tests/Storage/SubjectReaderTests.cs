using System.Text;
using Mailroom.Core.Storage;

namespace Mailroom.Core.Tests.Storage;

public sealed class SubjectReaderTests
{
    public static TheoryData<string> Messages() =>
    [
        "Subject: plain\r\n\r\nbody\r\n",
        "From: a@example.org\r\nSubject: folded\r\n  over two lines\r\n\r\nbody\r\n",
        "Subject: =?utf-8?B?w6lsw6k=?=\r\n\r\n",
        "Subject: with \u0001 control\r\n\r\n",
        "To: b@example.org\r\n\r\nSubject: in the body, not a header\r\n",
        "no header block at all",
        "",
        "Subject: " + new string('x', SubjectReader.Limit) + "\r\n\r\n",
        "Subject: early\r\nX-Long: " + new string('y', SubjectReader.Limit * 2) + "\r\n\r\n",
    ];

    [Theory]
    [MemberData(nameof(Messages))]
    public void A_message_in_an_array_of_its_own_reads_as_its_span_does(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        Assert.Equal(SubjectReader.Read(bytes.AsSpan(), truncated: false), SubjectReader.Read(bytes));
    }
}
