using System.Globalization;
using System.Text.RegularExpressions;
using Mailroom.Protocol.Replies;

namespace Mailroom.Client;

/// <summary>The original design's mailbox commands (docs/PROTOCOL.md, "The mailbox commands"), typed.</summary>
public sealed partial class SmtpConnection
{
    /// <summary>LOGN user password: logs in as AUTH PLAIN does. The password is the rest of the line, so it may hold spaces.</summary>
    public async Task LogInAsync(string user, string password, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentException.ThrowIfNullOrEmpty(password);
        EnsureOneLine(user, nameof(user));
        EnsureOneLine(password, nameof(password));
        if (user.Contains(' ', StringComparison.Ordinal))
        {
            throw new ArgumentException("A LOGN user name has no spaces.", nameof(user));
        }

        EnsureUsable();
        EnsureSafeForCredentials("LOGN");
        Expect("LOGN", await CommandAsync($"LOGN {user} {password}", $"LOGN {user} {Redacted}", cancellationToken).ConfigureAwait(false), 235);
        AuthenticatedUser = user;
    }

    /// <summary>READ: "250 2.0.0 &lt;name&gt; open: &lt;n&gt; message(s), &lt;u&gt; unread".</summary>
    public async Task<MailboxStatus> OpenMailboxAsync(string mailbox, CancellationToken cancellationToken)
    {
        var reply = await MailboxCommandAsync("READ", mailbox, cancellationToken).ConfigureAwait(false);
        var match = OpenedPattern().Match(reply.Lines[0]);
        return match.Success
            ? new MailboxStatus(match.Groups[1].Value, Number(match.Groups[2].Value), Number(match.Groups[3].Value))
            : throw Unparsable("READ", reply);
    }

    /// <summary>NEXT: the next message, or null past the end (550 5.2.0).</summary>
    public Task<MailboxMessage?> NextAsync(CancellationToken cancellationToken) => MoveAsync("NEXT", cancellationToken);

    /// <summary>PREV: the previous message, or null before the first (550 5.2.0).</summary>
    public Task<MailboxMessage?> PreviousAsync(CancellationToken cancellationToken) => MoveAsync("PREV", cancellationToken);

    /// <summary>FLAG important|read on|off; returns the message's flags as the server now gives them ("read,important", "none").</summary>
    public async Task<string> FlagAsync(MailFlag flag, bool on, CancellationToken cancellationToken)
    {
        var name = flag switch
        {
            MailFlag.Important => "important",
            MailFlag.Read => "read",
            _ => throw new ArgumentOutOfRangeException(nameof(flag)),
        };
        var reply = await MailboxCommandAsync("FLAG", $"{name} {(on ? "on" : "off")}", cancellationToken).ConfigureAwait(false);
        var at = reply.Lines[0].LastIndexOf(": flags ", StringComparison.Ordinal);
        return at >= 0 ? reply.Lines[0][(at + 8)..] : throw Unparsable("FLAG", reply);
    }

    /// <summary>DELE: moves the current message to the trash; returns how many moved (1).</summary>
    public async Task<int> DeleteCurrentAsync(CancellationToken cancellationToken) =>
        Trashed(await MailboxCommandAsync("DELE", null, cancellationToken).ConfigureAwait(false));

    /// <summary>DELE &lt;mailbox&gt;: moves every message of the mailbox to the trash; returns how many.</summary>
    public async Task<int> DeleteMailboxAsync(string mailbox, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(mailbox);
        return Trashed(await MailboxCommandAsync("DELE", mailbox, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// LIST: "&lt;n&gt; message(s)", then per message
    /// "&lt;number&gt; &lt;id&gt; &lt;arrival UTC&gt; &lt;octets&gt; &lt;flags&gt; &lt;&lt;sender&gt;&gt; &lt;subject&gt;".
    /// The date is the arrival time; the sender is the envelope's (null for the null sender).
    /// </summary>
    public async Task<IReadOnlyList<MailboxListing>> ListAsync(CancellationToken cancellationToken)
    {
        var reply = await MailboxCommandAsync("LIST", null, cancellationToken).ConfigureAwait(false);
        var listing = new List<MailboxListing>();
        foreach (var line in reply.Lines.Skip(1))
        {
            var match = ListingPattern().Match(line);
            if (!match.Success)
            {
                throw Unparsable("LIST", reply);
            }

            var date = DateTimeOffset.TryParse(match.Groups[3].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
                ? parsed : (DateTimeOffset?)null;
            var subject = match.Groups[7].Value;
            listing.Add(new MailboxListing(
                Number(match.Groups[1].Value),
                match.Groups[2].Value,
                long.Parse(match.Groups[4].Value, NumberStyles.None, CultureInfo.InvariantCulture),
                match.Groups[5].Value,
                match.Groups[6].Value.Length == 0 ? null : match.Groups[6].Value,
                subject.Length == 0 ? null : subject,
                date));
        }

        return listing;
    }

    /// <summary>RTRN: closes the mailbox and logs out.</summary>
    public async Task LogOutAsync(CancellationToken cancellationToken)
    {
        await MailboxCommandAsync("RTRN", null, cancellationToken).ConfigureAwait(false);
        AuthenticatedUser = null;
    }

    private async Task<MailboxMessage?> MoveAsync(string verb, CancellationToken cancellationToken)
    {
        EnsureUsable();
        var reply = await CommandAsync(verb, null, cancellationToken).ConfigureAwait(false);
        if (reply.Code == 550 && reply.Enhanced?.ToString() == "5.2.0")
        {
            return null;
        }

        Expect(verb, reply, 250);

        // The octet count is the only framing: without it nothing after this reply can be read safely.
        var match = FollowsPattern().Match(reply.Lines[0]);
        if (!match.Success || !int.TryParse(match.Groups[3].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var octets))
        {
            _broken = true;
            throw Unparsable(verb, reply);
        }

        // Checked before anything is allocated: the count comes from the server.
        if (octets > _options.MaxMessageFetchSize)
        {
            _broken = true;
            throw new SmtpProtocolException(string.Create(CultureInfo.InvariantCulture,
                $"The server announces a message of {octets} octets; at most {_options.MaxMessageFetchSize} are accepted (MaxMessageFetchSize)."));
        }

        var content = await TimedAsync("reading a message", token => _replies.ReadExactAsync(octets, token).AsTask(), cancellationToken).ConfigureAwait(false);
        return new MailboxMessage(Number(match.Groups[1].Value), match.Groups[2].Value, match.Groups[4].Value, content);
    }

    private async Task<SmtpReply> MailboxCommandAsync(string verb, string? argument, CancellationToken cancellationToken)
    {
        EnsureOneLine(argument, nameof(argument));
        EnsureUsable();
        var reply = await CommandAsync(argument is null ? verb : $"{verb} {argument}", null, cancellationToken).ConfigureAwait(false);
        return Expect(verb, reply, 250);
    }

    private static int Trashed(SmtpReply reply)
    {
        var match = TrashedPattern().Match(reply.Lines[0]);
        return match.Success ? Number(match.Groups[1].Value) : throw Unparsable("DELE", reply);
    }

    private static int Number(string digits) =>
        int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new SmtpProtocolException($"Not a number: {digits}");

    private static SmtpProtocolException Unparsable(string verb, SmtpReply reply) =>
        new($"The reply to {verb} does not have the documented form: {reply.ToString().TrimEnd()}");

    [GeneratedRegex(@"^(.+) open: (\d+) message\(s\), (\d+) unread$", RegexOptions.CultureInvariant)]
    private static partial Regex OpenedPattern();

    [GeneratedRegex(@"^(\d+) (\S+) (\d+) octets follow; flags (\S+)$", RegexOptions.CultureInvariant)]
    private static partial Regex FollowsPattern();

    [GeneratedRegex(@"^(\d+) message\(s\) moved to the trash$", RegexOptions.CultureInvariant)]
    private static partial Regex TrashedPattern();

    [GeneratedRegex(@"^(\d+) (\S+) (\S+) (\d+) (\S+) <([^>]*)> ?(.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex ListingPattern();
}
