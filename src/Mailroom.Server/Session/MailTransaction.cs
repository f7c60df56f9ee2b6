using Mailroom.Core.Storage;
using Mailroom.Protocol.Addressing;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;

namespace Mailroom.Server.Session;

/// <summary>
/// One mail transaction (RFC 5321 3.3): from MAIL to the end of DATA or the last BDAT, or RSET.
/// Owns the message sink while DATA or BDAT streams the message in, and aborts it whenever the
/// transaction ends without a commit (RSET, HELO/EHLO, QUIT, a refusal, a broken connection).
/// </summary>
internal sealed class MailTransaction(SmtpMailbox? sender, MailParameters parameters) : IAsyncDisposable
{
    private readonly HashSet<long> _mailboxIds = [];
    private readonly List<EnvelopeRecipient> _recipients = [];
    private readonly List<string> _addresses = [];

    public SmtpMailbox? Sender { get; } = sender;

    public MailParameters Parameters { get; } = parameters;

    public IReadOnlyList<EnvelopeRecipient> Recipients => _recipients;

    /// <summary>The RCPT addresses accepted, each once, as the client gave them: the envelope for the audit log.</summary>
    public IReadOnlyList<string> AcceptedAddresses => _addresses;

    /// <summary>Every RCPT accepted, counting those that share a mailbox (the 100-recipient limit counts these).</summary>
    public int AcceptedRecipientCount { get; private set; }

    /// <summary>The message being received: through DATA, or by BDAT from the first chunk to the last.</summary>
    public MessageSink? Sink { get; set; }

    /// <summary>
    /// Set when a BDAT chunk failed: later chunks are read and thrown away and get the same
    /// answer, until LAST ends the transaction (RFC 3030 section 2).
    /// </summary>
    public SmtpReply? Failure { get; set; }

    /// <summary>
    /// Adds one accepted RCPT, reaching one mailbox or (a list) several; a mailbox reached twice,
    /// directly or through lists, gets the message once.
    /// </summary>
    public void AddRecipient(IEnumerable<MailboxRef> mailboxes, string address)
    {
        ArgumentNullException.ThrowIfNull(mailboxes);
        AcceptedRecipientCount++;
        if (!_addresses.Contains(address, StringComparer.OrdinalIgnoreCase))
        {
            _addresses.Add(address);
        }

        foreach (var mailbox in mailboxes)
        {
            Add(mailbox, address);
        }
    }

    private void Add(MailboxRef mailbox, string address)
    {
        if (_mailboxIds.Add(mailbox.Id))
        {
            _recipients.Add(new EnvelopeRecipient(mailbox, address));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Sink is not null)
        {
            await Sink.DisposeAsync().ConfigureAwait(false);
            Sink = null;
        }
    }
}
