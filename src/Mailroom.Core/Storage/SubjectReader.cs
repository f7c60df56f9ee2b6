using System.Buffers;

using MimeKit;

namespace Mailroom.Core.Storage;

/// <summary>
/// The decoded Subject of a stored message, for listings. Only the first
/// <see cref="Limit"/> bytes of the file are read and parsed: RFC 5322 2.1 puts the header
/// fields first, but sets no limit on how many there are, and parsing a header block of
/// tens of megabytes costs gigabytes of memory. A Subject that starts past the limit is not
/// found (null); one whose folded lines cross it is cut at the last whole line before it.
/// </summary>
public static class SubjectReader
{
    public const int Limit = 64 * 1024;

    /// <summary>
    /// Null when there is no Subject in the first <see cref="Limit"/> bytes. Malformed headers
    /// also give null: the subject is a convenience, and a delivery must never fail because of it.
    /// </summary>
    public static async Task<string?> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Limit);
        try
        {
            int length;
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0, useAsync: true);
            await using (file.ConfigureAwait(false))
            {
                length = await file.ReadAtLeastAsync(buffer.AsMemory(0, Limit), Limit, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            }

            return Parse(buffer, length, truncated: length == Limit);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
#pragma warning disable CA1031 // Any read or parse failure only costs the listing its subject.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The Subject in <paramref name="prefix"/>, the first bytes of a message (at most
    /// <see cref="Limit"/> are looked at); <paramref name="truncated"/> says the message goes on
    /// after them. Never throws for malformed input: null instead.
    /// </summary>
    public static string? Read(ReadOnlySpan<byte> prefix, bool truncated)
    {
        if (prefix.Length > Limit)
        {
            prefix = prefix[..Limit];
            truncated = true;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(prefix.Length, 1));
        try
        {
            prefix.CopyTo(buffer);
            return Parse(buffer, prefix.Length, truncated);
        }
#pragma warning disable CA1031 // Any parse failure only costs the listing its subject.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// <inheritdoc cref="Read(ReadOnlySpan{byte}, bool)"/> A whole message already in an array of
    /// its own is parsed where it lies, without the copy the span overload makes.
    /// </summary>
    public static string? Read(byte[] message)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            return message.Length > Limit ? Read(message.AsSpan(), truncated: false) : Parse(message, message.Length, truncated: false);
        }
#pragma warning disable CA1031 // Any parse failure only costs the listing its subject.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }

    private static string? Parse(byte[] buffer, int length, bool truncated)
    {
        // A prefix that may end inside a line loses that partial line, so a header cut at the
        // limit is never taken for a whole one. When the header block ends inside the prefix,
        // the parser stops at its empty line and the cut does not matter.
        if (truncated)
        {
            length = buffer.AsSpan(0, length).LastIndexOf((byte)'\n') + 1;
        }

        if (length == 0)
        {
            return null;
        }

        // RFC 5322 3.6.5: subject = "Subject:" unstructured CRLF, so folding is undone;
        // RFC 2047 encoded-words are decoded by Header.Value.
        using var stream = new MemoryStream(buffer, 0, length, writable: false);
        var headers = HeaderList.Load(stream);
        return headers[HeaderId.Subject]?.Trim() is { } subject ? WithoutControls(subject) : null;
    }

    /// <summary>
    /// An encoded-word may decode to any character, NUL included, which PostgreSQL's text refuses
    /// (a message would get 451 for ever there) and which has no business in a listing: control
    /// characters other than tab become U+FFFD, on every store alike.
    /// </summary>
    private static string WithoutControls(string subject) =>
        subject.AsSpan().IndexOfAnyInRange('\0', '\x1F') < 0 && !subject.Contains('\x7F', StringComparison.Ordinal)
            ? subject
            : string.Create(subject.Length, subject, static (span, text) =>
            {
                for (var i = 0; i < text.Length; i++)
                {
                    var c = text[i];
                    span[i] = (c < ' ' && c != '\t') || c == '\x7F' ? '\uFFFD' : c;
                }
            });
}
