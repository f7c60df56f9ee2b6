using System.Reflection;

namespace Mailroom.Protocol.Replies;

/// <summary>
/// Every reply the server sends, in one place (the original design's "SMTP code generator").
/// Codes follow RFC 5321 section 4.2.2/4.2.3; enhanced codes follow RFC 3463 and are left out only
/// where RFC 2034 section 4 says so: the greeting, the replies to HELO and EHLO, and 3xx replies.
/// </summary>
public static class ReplyCatalogue
{
    // Connection
    public static readonly ReplyTemplate ServiceReady = new(220, null, "{0} ESMTP Mailroom ready");
    public static readonly ReplyTemplate Closing = new(221, "2.0.0", "{0} closing connection");
    public static readonly ReplyTemplate ShuttingDown = new(421, "4.3.2", "{0} service shutting down, closing connection");
    public static readonly ReplyTemplate TooManyConnections = new(421, "4.3.2", "Too many connections; try again later");
    public static readonly ReplyTemplate TooManyConnectionsFromAddress = new(421, "4.7.0", "Too many connections from your address; try again later");
    public static readonly ReplyTemplate TooManyErrors = new(421, "4.7.0", "Too many protocol errors, closing connection");
    public static readonly ReplyTemplate Timeout = new(421, "4.4.2", "Timeout exceeded, closing connection");
    public static readonly ReplyTemplate TooManyRefusedRecipients = new(421, "4.7.0", "Too many refused recipients, closing connection");
    public static readonly ReplyTemplate TooManyJunkCommands = new(421, "4.7.0", "Too many commands without mail, closing connection");
    public static readonly ReplyTemplate BdatFramingLost = new(421, "4.5.0", "Syntax: {0}; the chunk's end cannot be found, closing connection");

    // Greeting (RFC 5321 4.1.1.1)
    public static readonly ReplyTemplate HeloOk = new(250, null, "{0} greets {1}");
    public static readonly ReplyTemplate EhloOk = new(250, null, "{0} greets {1}");

    // Transaction
    public static readonly ReplyTemplate Ok = new(250, "2.0.0", "OK");
    public static readonly ReplyTemplate SenderOk = new(250, "2.1.0", "Sender <{0}> OK");
    public static readonly ReplyTemplate RecipientOk = new(250, "2.1.5", "Recipient <{0}> OK");
    public static readonly ReplyTemplate StartMailInput = new(354, null, "End data with <CR><LF>.<CR><LF>");
    public static readonly ReplyTemplate MessageAccepted = new(250, "2.0.0", "OK: queued as {0}");
    public static readonly ReplyTemplate ChunkAccepted = new(250, "2.0.0", "{0} octets received");
    public static readonly ReplyTemplate ResetOk = new(250, "2.0.0", "Reset OK");

    // TLS (RFC 3207 4)
    public static readonly ReplyTemplate ReadyToStartTls = new(220, "2.0.0", "Ready to start TLS");
    public static readonly ReplyTemplate TlsNotAvailable = new(454, "4.7.0", "TLS not available");
    public static readonly ReplyTemplate TlsAlreadyActive = new(503, "5.5.1", "Bad sequence of commands: TLS is already active");

    // Authentication (RFC 4954 4, 6)
    public static readonly ReplyTemplate SaslChallenge = new(334, null, "{0}");
    public static readonly ReplyTemplate AuthSucceeded = new(235, "2.7.0", "Authentication succeeded");
    public static readonly ReplyTemplate AuthFailed = new(535, "5.7.8", "Authentication credentials invalid");
    public static readonly ReplyTemplate AuthNeedsTls = new(538, "5.7.11", "Encryption required for requested authentication mechanism");
    public static readonly ReplyTemplate AuthMalformed = new(501, "5.5.2", "Cannot decode the authentication response");
    public static readonly ReplyTemplate AuthCancelled = new(501, "5.5.2", "Authentication cancelled");
    public static readonly ReplyTemplate AuthMechanismUnknown = new(504, "5.5.4", "Unrecognized authentication type");
    public static readonly ReplyTemplate AlreadyAuthenticated = new(503, "5.5.1", "Bad sequence of commands: already authenticated");
    public static readonly ReplyTemplate AuthThrottled = new(454, "4.7.0", "Too many failed log-ins; try again later");
    public static readonly ReplyTemplate AuthBusy = new(454, "4.7.0", "Temporary authentication failure; try again later");
    public static readonly ReplyTemplate TooManyAuthFailures = new(421, "4.7.0", "Too many failed log-ins, closing connection");
    public static readonly ReplyTemplate AuthRequired = new(530, "5.7.0", "Authentication required");
    public static readonly ReplyTemplate TlsRequired = new(530, "5.7.0", "Must issue a STARTTLS command first");
    public static readonly ReplyTemplate SenderNotOwned = new(553, "5.7.1", "Sender address <{0}> is not yours to use");
    public static readonly ReplyTemplate OutboundNotConfigured = new(550, "5.7.1", "Relaying denied: outbound delivery is not configured, so only local recipients can be reached");

    // The original design's Caesar cipher: obfuscation, not encryption.
    public static readonly ReplyTemplate CaesarOn = new(220, "2.0.0", "Caesar obfuscation on, shift {0}; this is NOT encryption and protects nothing, use STARTTLS");
    public static readonly ReplyTemplate CaesarUnavailable = new(502, "5.5.1", "XCAESAR is not available on this connection");

    // The mailbox commands (docs/PROTOCOL.md)
    public static readonly ReplyTemplate MailboxCommandsUnavailable = new(502, "5.5.1", "Mailbox commands are not available on this listener");
    public static readonly ReplyTemplate MailboxOpened = new(250, "2.0.0", "{0} open: {1} message(s), {2} unread");
    public static readonly ReplyTemplate MailboxNotFound = new(550, "5.1.1", "No such mailbox: {0}");
    public static readonly ReplyTemplate NoMailboxOpen = new(503, "5.5.1", "Bad sequence of commands: READ a mailbox first");
    public static readonly ReplyTemplate NoCurrentMessage = new(503, "5.5.1", "Bad sequence of commands: no current message; use NEXT");
    public static readonly ReplyTemplate NoNextMessage = new(550, "5.2.0", "No next message: the last one is current");
    public static readonly ReplyTemplate NoPreviousMessage = new(550, "5.2.0", "No previous message: the first one is current");
    public static readonly ReplyTemplate MessageFollows = new(250, "2.0.0", "{0} {1} {2} octets follow; flags {3}");
    public static readonly ReplyTemplate NoRight = new(550, "5.7.1", "You may not {0} in this mailbox");
    public static readonly ReplyTemplate MessageGone = new(550, "5.2.0", "The current message is no longer in the mailbox");
    public static readonly ReplyTemplate FlagChanged = new(250, "2.0.0", "Message {0}: flags {1}");
    public static readonly ReplyTemplate MessagesTrashed = new(250, "2.0.0", "{0} message(s) moved to the trash");
    public static readonly ReplyTemplate MailboxListing = new(250, "2.0.0", "{0}");
    public static readonly ReplyTemplate LoggedOut = new(250, "2.0.0", "Mailbox closed, logged out");

    // Information (RFC 5321 4.1.1.6 - 4.1.1.8)
    public static readonly ReplyTemplate Help = new(214, "2.0.0", "{0}");
    public static readonly ReplyTemplate HelpTopicUnknown = new(504, "5.5.4", "No help for {0}; try HELP");
    public static readonly ReplyTemplate CannotVerify = new(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery");
    public static readonly ReplyTemplate ExpnDisabled = new(502, "5.5.1", "EXPN is not available");
    public static readonly ReplyTemplate Verified = new(250, "2.1.5", "<{0}>");
    public static readonly ReplyTemplate Expanded = new(250, "2.1.5", "{0}");

    // Syntax (RFC 5321 4.2.4, RFC 3463 3.6)
    public static readonly ReplyTemplate CommandUnrecognized = new(500, "5.5.1", "Command unrecognized");
    public static readonly ReplyTemplate LineTooLong = new(500, "5.5.2", "Line too long (the limit is {0} octets)");
    public static readonly ReplyTemplate BareLineEnding = new(500, "5.5.2", "Command lines must end with CRLF");
    public static readonly ReplyTemplate InvalidCharacters = new(500, "5.5.2", "Invalid characters in command line");
    public static readonly ReplyTemplate SyntaxError = new(501, "5.5.4", "Syntax: {0}");
    public static readonly ReplyTemplate BadSenderSyntax = new(501, "5.1.7", "Bad sender address syntax");
    public static readonly ReplyTemplate BadRecipientSyntax = new(501, "5.1.3", "Bad recipient address syntax");
    public static readonly ReplyTemplate ParameterNotRecognized = new(555, "5.5.4", "Parameter not recognized or not implemented: {0}");
    public static readonly ReplyTemplate ParameterValueInvalid = new(501, "5.5.4", "Invalid value for parameter {0}");
    public static readonly ReplyTemplate NeedsSmtpUtf8 = new(553, "5.6.7", "Non-ASCII address requires the SMTPUTF8 parameter");

    // Sequence (RFC 5321 4.3.2, one reason per state of the sequence table)
    public static readonly ReplyTemplate NeedHelo = new(503, "5.5.1", "Bad sequence of commands: send HELO or EHLO first");
    public static readonly ReplyTemplate NeedMail = new(503, "5.5.1", "Bad sequence of commands: send MAIL first");
    public static readonly ReplyTemplate NeedRcpt = new(503, "5.5.1", "Bad sequence of commands: no valid recipients yet");
    public static readonly ReplyTemplate NestedMail = new(503, "5.5.1", "Bad sequence of commands: sender already given; RSET first");
    public static readonly ReplyTemplate ChunkingInProgress = new(503, "5.5.1", "Bad sequence of commands: BDAT transfer in progress");
    public static readonly ReplyTemplate ExtensionsNeedEhlo = new(503, "5.5.1", "Bad sequence of commands: {0} needs EHLO");

    // Policy and limits
    public static readonly ReplyTemplate RelayDenied = new(550, "5.7.1", "Relaying denied: {0} is not a local domain");
    public static readonly ReplyTemplate MailboxUnknown = new(550, "5.1.1", "No such mailbox here: {0}");
    public static readonly ReplyTemplate NotAllowedToPost = new(550, "5.7.1", "You may not post to the list {0}");
    public static readonly ReplyTemplate TooManyRecipients = new(452, "4.5.3", "Too many recipients");
    public static readonly ReplyTemplate MessageTooBig = new(552, "5.3.4", "Message size exceeds fixed maximum message size of {0} octets");
    public static readonly ReplyTemplate DataLineTooLong = new(554, "5.6.0", "Message refused: a line is longer than {0} octets");
    public static readonly ReplyTemplate BareLineEndingInData = new(554, "5.6.0", "Message refused: bare CR or LF in message content; lines must end with CRLF");

    // Local failures (RFC 3463 3.4): the detail goes to the log, never to the client.
    public static readonly ReplyTemplate StorageFailure = new(451, "4.3.0", "Temporary local problem; try again later");
    public static readonly ReplyTemplate StorageFull = new(452, "4.3.1", "Insufficient system storage; try again later");

    // The audit log cannot be written (a full disk): rather than carry on unaudited, the server
    // turns away new transactions and mailbox changes with RFC 5321 4.2.3's 451 text.
    public static readonly ReplyTemplate AuditUnavailable = new(451, "4.3.0", "Requested action aborted: local error in processing");

    /// <summary>Every entry, by field name, for tests and documentation.</summary>
    public static IReadOnlyList<(string Name, ReplyTemplate Template)> All { get; } =
        typeof(ReplyCatalogue).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(ReplyTemplate))
            .Select(f => (f.Name, (ReplyTemplate)f.GetValue(null)!))
            .ToArray();
}
