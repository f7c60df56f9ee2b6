using MimeKit;

namespace Mailroom.Storage.Sqlite;

/// <summary>
/// The decoded Subject of a stored message, for listings. Only the header block is parsed
/// (RFC 5322 2.1: "a message consists of header fields ... optionally followed by a message body",
/// the header ending at the first empty line), so a large body is never read.
/// </summary>
internal static class SubjectReader
{
    /// <summary>
    /// Null when there is no Subject. Malformed headers also give null: the subject is a
    /// convenience, and a delivery must never fail because of it.
    /// </summary>
    public static async Task<string?> ReadAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 16 * 1024, useAsync: true);
            await using (file.ConfigureAwait(false))
            {
                // RFC 5322 3.6.5: subject = "Subject:" unstructured CRLF, so folding is
                // undone; RFC 2047 encoded-words are decoded by Header.Value.
                var headers = await HeaderList.LoadAsync(file, cancellationToken).ConfigureAwait(false);
                var subject = headers[HeaderId.Subject];
                return subject?.Trim();
            }
        }
        catch (OperationCanceledException)
        {
            throw;
        }
#pragma warning disable CA1031 // Any parse failure only costs the listing its subject.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }
}
