namespace Mailroom.Core.Audit;

/// <summary>One physical line of a log file; <see cref="Bytes"/> is valid only until the reader moves on.</summary>
internal readonly record struct AuditLine(int Number, ReadOnlyMemory<byte> Bytes, bool Terminated, bool TooLong);

/// <summary>
/// Reads a log file line by line without loading it whole (files reach tens of megabytes), as the
/// exact bytes the mac covers; a reader decoding text could not verify them. A last line with no
/// '\n' is reported as not terminated: a writer that crashed mid-write leaves one.
/// </summary>
internal static class AuditLineReader
{
    /// <summary>No writer makes a line this long; past it the line is reported, not buffered.</summary>
    public const int MaxLineLength = 16 * 1024 * 1024;

    private const int ChunkSize = 64 * 1024;

    /// <summary>Every non-blank line of the file, in order.</summary>
    public static IEnumerable<AuditLine> Read(string path)
    {
        using var stream = OpenForReading(path);
        var buffer = new byte[ChunkSize];
        int start = 0, end = 0, number = 0;
        var skipping = false;
        while (true)
        {
            var newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                number++;
                var line = new ReadOnlyMemory<byte>(buffer, start, newline);
                start += newline + 1;
                if (skipping)
                {
                    skipping = false;
                    yield return new AuditLine(number, ReadOnlyMemory<byte>.Empty, Terminated: true, TooLong: true);
                }
                else if (!IsBlank(line.Span))
                {
                    yield return new AuditLine(number, line, Terminated: true, TooLong: false);
                }

                continue;
            }

            if (start > 0)
            {
                // Move the partial line to the front before reading more.
                buffer.AsSpan(start, end - start).CopyTo(buffer);
                end -= start;
                start = 0;
            }

            if (end == buffer.Length)
            {
                if (buffer.Length >= MaxLineLength)
                {
                    skipping = true;
                    end = 0;
                }
                else
                {
                    Array.Resize(ref buffer, Math.Min(buffer.Length * 2, MaxLineLength));
                }
            }

            var read = stream.Read(buffer, end, buffer.Length - end);
            if (read == 0)
            {
                if (end > 0 || skipping)
                {
                    number++;
                    var line = new ReadOnlyMemory<byte>(buffer, 0, end);
                    if (skipping || !IsBlank(line.Span))
                    {
                        yield return new AuditLine(number, line, Terminated: false, TooLong: skipping);
                    }
                }

                yield break;
            }

            end += read;
        }
    }

    /// <summary>Opens a log file that its writer may still be appending to, or rotating away.</summary>
    public static FileStream OpenForReading(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.IndexOfAnyExcept(" \t\r"u8) < 0;
}
