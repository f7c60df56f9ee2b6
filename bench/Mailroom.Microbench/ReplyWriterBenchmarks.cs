using System.Buffers;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Mailroom.Protocol.Replies;

namespace Mailroom.Microbench;

/// <summary>
/// The common replies, built from the catalogue and written into an <see cref="IBufferWriter{T}"/>
/// the way the handlers and SmtpSession.Reply do it (the session writes to its PipeWriter).
/// </summary>
[MemoryDiagnoser]
public class ReplyWriterBenchmarks
{
    private const string HostName = "mx.example.org";

    /// <summary>The extension keywords of an EHLO reply before TLS (EhloHandler.Keywords).</summary>
    private static readonly string[] Keywords =
    [
        "STARTTLS", "PIPELINING", string.Create(CultureInfo.InvariantCulture, $"SIZE {25 * 1024 * 1024}"), "8BITMIME", "SMTPUTF8",
        "ENHANCEDSTATUSCODES", "CHUNKING",
    ];

    private readonly ArrayBufferWriter<byte> _output = new(4096);

    private readonly SmtpReply _ehlo = ReplyCatalogue.EhloOk.WithLines([ReplyCatalogue.EhloOk.Format(HostName, "client.example.org").Lines[0], .. Keywords]);

    /// <summary>250 2.0.0 after a durable commit (MessageReception).</summary>
    [Benchmark]
    public int MessageAccepted()
    {
        _output.ResetWrittenCount();
        ReplyFormatter.Write(ReplyCatalogue.MessageAccepted.Format("01JDQ4Z8X3K2M7N5P9R6T1V0WY"), _output);
        return _output.WrittenCount;
    }

    /// <summary>354 (DataHandler): a fixed reply, formatted once by the catalogue.</summary>
    [Benchmark]
    public int StartMailInput()
    {
        _output.ResetWrittenCount();
        ReplyFormatter.Write(ReplyCatalogue.StartMailInput, _output);
        return _output.WrittenCount;
    }

    /// <summary>221 2.0.0 (QuitHandler).</summary>
    [Benchmark]
    public int Closing()
    {
        _output.ResetWrittenCount();
        ReplyFormatter.Write(ReplyCatalogue.Closing.Format(HostName), _output);
        return _output.WrittenCount;
    }

    /// <summary>The multi-line EHLO reply (EhloHandler): the greeting line, then one keyword per line.</summary>
    [Benchmark]
    public int Ehlo()
    {
        _output.ResetWrittenCount();
        var first = ReplyCatalogue.EhloOk.Format(HostName, "client.example.org").Lines[0];
        ReplyFormatter.Write(ReplyCatalogue.EhloOk.WithLines([first, .. Keywords]), _output);
        return _output.WrittenCount;
    }

    /// <summary>The same EHLO reply built once: what the writer alone costs.</summary>
    [Benchmark]
    public int EhloWriteOnly()
    {
        _output.ResetWrittenCount();
        ReplyFormatter.Write(_ehlo, _output);
        return _output.WrittenCount;
    }
}
