using System.Globalization;
using Mailroom.Client;

namespace Mailroom.Cli.Send;

/// <summary>Where to send and as whom: what <c>send</c> and <c>sendmail</c> share.</summary>
internal sealed record Submission(string Server, TlsMode Tls, string? TlsFingerprint, string? User, string? Password, byte? CaesarShift);

/// <summary>
/// Connects, secures, logs in and sends one message, printing the server's id for it; the one
/// place where <c>send</c> and <c>sendmail</c> talk to a server.
/// </summary>
internal static class Delivery
{
    /// <summary>Messages above this size get a progress bar, when standard error is a terminal.</summary>
    private const long ProgressThreshold = 1024 * 1024;

    public static async Task<SendResult> SendAsync(Submission submission, string sender, IReadOnlyList<string> recipients, Stream message, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var connection = await ConnectAsync(submission, error, trace: null, cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            using var bar = message.Length >= ProgressThreshold && !Console.IsErrorRedirected ? new ProgressBar(error, message.Length) : null;
            var result = await connection.SendAsync(sender, recipients, message, message.Length, bar, cancellationToken).ConfigureAwait(false);
            await connection.QuitAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }
    }

    /// <summary>
    /// Connects, secures the connection as <see cref="Submission.Tls"/> says (with the pin, if
    /// any), and logs in when there is a user: the one way <c>send</c>, <c>sendmail</c> and
    /// <c>shell</c> reach a server. A Caesar shift is used with a warning that it is not encryption.
    /// </summary>
    public static async Task<SmtpConnection> ConnectAsync(Submission submission, TextWriter error, Action<bool, string>? trace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(submission);
        ArgumentNullException.ThrowIfNull(error);
        var (host, port) = ParseServer(submission.Server);
        var options = new SmtpClientOptions
        {
            ClientName = System.Net.Dns.GetHostName() is { Length: > 0 } name && !name.Contains(' ', StringComparison.Ordinal) ? name : "localhost",
            Tls = submission.Tls,
            PinnedCertificateSha256 = submission.TlsFingerprint,
            CaesarShift = submission.CaesarShift,
            Trace = trace,
        };
        if (submission.CaesarShift is not null)
        {
            await error.WriteLineAsync("mailroom: warning: --caesar is the original design's obfuscation, not encryption: anyone on the path can read this session, password included").ConfigureAwait(false);
        }

        var connection = await SmtpConnection.ConnectAsync(host, port, options, cancellationToken).ConfigureAwait(false);
        try
        {
            if (submission.User is not null)
            {
                await connection.AuthenticateAsync(submission.User, submission.Password ?? string.Empty, cancellationToken).ConfigureAwait(false);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>HOST:PORT, with an IPv6 address in brackets ([::1]:587).</summary>
    public static (string Host, int Port) ParseServer(string server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var colon = server.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(server.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new FormatException($"--server '{server}' is not HOST:PORT (for example mail.example.com:587)");
        }

        var host = server[..colon];
        return (host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host, port);
    }
}

/// <summary>A one-line progress bar on standard error, redrawn in place; only made when that is a terminal.</summary>
internal sealed class ProgressBar(TextWriter error, long total) : IProgress<long>, IDisposable
{
    private int _shown = -1;

    public void Report(long value)
    {
        var percent = total == 0 ? 100 : (int)(value * 100 / total);
        if (percent == _shown)
        {
            return;
        }

        _shown = percent;
        var filled = percent / 5;
        error.Write(string.Create(CultureInfo.InvariantCulture, $"\r[{new string('#', filled)}{new string('.', 20 - filled)}] {percent,3}% of {total / 1e6:0.0} MB"));
    }

    public void Dispose()
    {
        if (_shown >= 0)
        {
            error.WriteLine();
        }
    }
}
