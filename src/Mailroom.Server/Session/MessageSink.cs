using Mailroom.Core.Storage;
using Mailroom.Protocol.Data;
using Mailroom.Protocol.Replies;

namespace Mailroom.Server.Session;

/// <summary>
/// Where message content goes while DATA or BDAT streams it in: to the store writer, counted
/// against the size limit and checked line by line. Past the limit, or after a storage fault, it
/// keeps counting but stores nothing more, so the transfer can be read to its end and answered.
/// </summary>
internal sealed class MessageSink(IMessageWriter writer, long maxSize, int maxTextLineLength) : IAsyncDisposable
{
    private LineChecker _checker = new(maxTextLineLength);
    private IMessageWriter? _writer = writer;

    public string MessageId { get; } = writer.MessageId;

    /// <summary>Octets of content received (trace headers not counted).</summary>
    public long Length { get; private set; }

    public StorageException? Fault { get; private set; }

    public bool Oversize => Length > maxSize;

    /// <summary>Writes the trace headers, which count toward neither the size nor the line checks.</summary>
    public async ValueTask WriteTraceAsync(ReadOnlyMemory<byte> headers, CancellationToken cancellationToken)
    {
        try
        {
            await _writer!.WriteAsync(headers, cancellationToken).ConfigureAwait(false);
        }
        catch (StorageException ex)
        {
            Fault = ex;
        }
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        Length += content.Length;
        if (Oversize || Fault is not null)
        {
            return;
        }

        _checker.Check(content.Span);
        try
        {
            await _writer!.WriteAsync(content, cancellationToken).ConfigureAwait(false);
        }
        catch (StorageException ex)
        {
            Fault = ex;
        }
    }

    /// <summary>
    /// Why the message cannot be accepted as received so far, or null. <paramref name="atEnd"/>
    /// says the content is complete, so a CR still waiting for its LF is a bare CR. A storage
    /// fault is answered by the session (<see cref="Fault"/>), not here.
    /// </summary>
    public SmtpReply? Refusal(bool atEnd)
    {
        if (atEnd)
        {
            _checker.Complete();
        }

        return Oversize ? ReplyCatalogue.MessageTooBig.Format(maxSize)
            : _checker.SawBareLineEnding ? ReplyCatalogue.BareLineEndingInData.Reply
            : _checker.SawLongLine ? ReplyCatalogue.DataLineTooLong.Format(maxTextLineLength)
            : null;
    }

    /// <summary>Makes the message durable; only after this returns may the client hear 250.</summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        await _writer!.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_writer is not null)
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
            _writer = null;
        }
    }
}
