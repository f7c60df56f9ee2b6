using System.Text;

using Mailroom.Core.Storage;

namespace Mailroom.Storage.Sqlite.Tests;

/// <summary>
/// A header block has no size limit in RFC 5322; the subject reader must not parse all of it
/// (a 45 MB message of header lines once took the server from 62 MB to 1.7 GB at commit).
/// </summary>
[Collection(typeof(NotInParallel))]
public sealed class SubjectLimitTests : TempStore
{
    private const int HeaderBytes = 5 * 1024 * 1024;
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task ASubjectAfterMegabytesOfHeaderLinesIsNotSearchedFor()
    {
        var a = await AddUserAsync("a@example.com");

        var id = await DeliverAsync(Message(subjectFirst: false), a);

        var summary = Assert.Single(await Store.ListMessagesAsync(null, None));
        Assert.Equal(id, summary.MessageId);
        Assert.Null(summary.Subject);
    }

    [Fact]
    public async Task ASubjectBeforeMegabytesOfHeaderLinesIsFound()
    {
        var a = await AddUserAsync("a@example.com");

        await DeliverAsync(Message(subjectFirst: true), a);

        Assert.Equal("early", Assert.Single(await Store.ListMessagesAsync(null, None)).Subject);
    }

    [Fact]
    public async Task ASubjectCutAtTheLimitKeepsItsWholeLinesOnly()
    {
        var a = await AddUserAsync("a@example.com");
        var filler = HeaderLines(SubjectReader.Limit - "Subject: first\r\n".Length - 10);
        var message = Encoding.ASCII.GetBytes(filler + "Subject: first\r\n second part past the limit\r\n\r\nbody\r\n");

        await DeliverAsync(message, a);

        Assert.Equal("first", Assert.Single(await Store.ListMessagesAsync(null, None)).Subject);
    }

    [Fact]
    public async Task ReadingTheSubjectOfAHugeHeaderBlockAllocatesLittle()
    {
        var path = Path.Combine(DataDirectory, "huge-headers.eml");
        await File.WriteAllBytesAsync(path, Message(subjectFirst: false));
        var small = Path.Combine(DataDirectory, "small.eml");
        await File.WriteAllTextAsync(small, "Subject: warm-up\r\n\r\n");
        Assert.Equal("warm-up", await SubjectReader.ReadAsync(small, None));

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var subject = await SubjectReader.ReadAsync(path, None);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        // Parsing 64 KiB of one-line headers costs about 2 MB in MimeKit; all 5 MB cost about 200 MB.
        Assert.True(allocated < 16 * 1024 * 1024, $"reading the subject allocated {allocated:N0} bytes for {HeaderBytes:N0} bytes of headers");
        Assert.Null(subject);
    }

    private static byte[] Message(bool subjectFirst)
    {
        var lines = HeaderLines(HeaderBytes);
        var text = subjectFirst
            ? "Subject: early\r\n" + lines + "\r\nbody\r\n"
            : lines + "Subject: late\r\n\r\nbody\r\n";
        return Encoding.ASCII.GetBytes(text);
    }

    private static string HeaderLines(int bytes)
    {
        const string Line = "X-H: v\r\n";
        var builder = new StringBuilder(bytes + Line.Length);
        while (builder.Length + Line.Length <= bytes)
        {
            builder.Append(Line);
        }

        return builder.ToString();
    }
}
