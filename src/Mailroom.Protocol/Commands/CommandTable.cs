using Mailroom.Protocol.Replies;

namespace Mailroom.Protocol.Commands;

/// <summary>One row of the command table.</summary>
/// <param name="Verb">The command.</param>
/// <param name="Syntax">Its syntax, as HELP and the 501 replies show it.</param>
/// <param name="Description">One line for HELP.</param>
/// <param name="AllowedIn">The states in which it is legal (RFC 5321 4.1.4, RFC 3030 2).</param>
/// <param name="OutOfSequence">What to answer when it is not legal and no state-wide reason applies.</param>
/// <param name="NeedsEhlo">Belongs to a service extension, so a client that greeted with HELO may not use it (RFC 5321 2.2.1).</param>
/// <param name="IsJunk">Moves no mail: a session may send only so many of these between messages, so it cannot idle or probe forever.</param>
public sealed record CommandInfo(SmtpVerb Verb, string Syntax, string Description, SmtpState AllowedIn, ReplyTemplate OutOfSequence, bool NeedsEhlo = false, bool IsJunk = false)
{
    public string Name { get; } = Verb.ToString().ToUpperInvariant();
}

/// <summary>
/// The legal command sequence, in one table. HELP is generated from it and the session consults
/// it before any handler runs, so no handler checks state on its own.
/// </summary>
public static class CommandTable
{
    private static readonly CommandInfo[] Rows =
    [
        // RFC 5321 4.1.4: HELO/EHLO may be issued at any time and reset the transaction.
        new(SmtpVerb.Ehlo, "EHLO <domain>", "Identify yourself and list the service extensions", SmtpState.Any & ~SmtpState.Chunking, ReplyCatalogue.ChunkingInProgress),
        new(SmtpVerb.Helo, "HELO <domain>", "Identify yourself (RFC 821 style, no extensions)", SmtpState.Any & ~SmtpState.Chunking, ReplyCatalogue.ChunkingInProgress),
        new(SmtpVerb.Mail, "MAIL FROM:<address> [SIZE=n] [BODY=7BIT|8BITMIME] [SMTPUTF8]", "Start a transaction with the sender's address", SmtpState.Greeted, ReplyCatalogue.NestedMail),
        new(SmtpVerb.Rcpt, "RCPT TO:<address>", "Add a recipient", SmtpState.MailGiven | SmtpState.RcptGiven, ReplyCatalogue.NeedMail),
        new(SmtpVerb.Data, "DATA", "Send the message, ended by a line holding only a dot", SmtpState.RcptGiven, ReplyCatalogue.NeedRcpt),
        new(SmtpVerb.Bdat, "BDAT <size> [LAST]", "Send the next chunk of the message as exactly <size> octets", SmtpState.RcptGiven | SmtpState.Chunking, ReplyCatalogue.NeedRcpt, NeedsEhlo: true),
        new(SmtpVerb.Rset, "RSET", "Abort the transaction; the greeting stands", SmtpState.Any, ReplyCatalogue.NeedHelo, IsJunk: true),
        new(SmtpVerb.Noop, "NOOP", "Do nothing", SmtpState.Any, ReplyCatalogue.NeedHelo, IsJunk: true),
        new(SmtpVerb.Quit, "QUIT", "Close the connection", SmtpState.Any, ReplyCatalogue.NeedHelo),
        new(SmtpVerb.Help, "HELP [command]", "List the commands, or describe one", SmtpState.Any & ~SmtpState.Chunking, ReplyCatalogue.ChunkingInProgress, IsJunk: true),
        new(SmtpVerb.Vrfy, "VRFY <address>", "Verify an address", SmtpState.Any & ~SmtpState.Chunking, ReplyCatalogue.ChunkingInProgress, IsJunk: true),
        new(SmtpVerb.Expn, "EXPN <list>", "Expand a mailing list", SmtpState.Any & ~SmtpState.Chunking, ReplyCatalogue.ChunkingInProgress, IsJunk: true),
        // RFC 3207 4: STARTTLS takes no parameters and is not part of a mail transaction.
        new(SmtpVerb.Starttls, "STARTTLS", "Start TLS; then greet again with EHLO", SmtpState.Greeted, ReplyCatalogue.NestedMail, NeedsEhlo: true),

        // RFC 4954 4: "The AUTH command is not permitted during a mail transaction."
        new(SmtpVerb.Auth, "AUTH <mechanism> [initial-response]", "Log in with SASL (PLAIN, LOGIN)", SmtpState.Greeted, ReplyCatalogue.NestedMail, NeedsEhlo: true),
        new(SmtpVerb.Logn, "LOGN <user> <password>", "Log in (the original design's command; same rules as AUTH)", SmtpState.Greeted, ReplyCatalogue.NestedMail),
        // The original design's mailbox commands: after a log-in, outside a mail transaction.
        new(SmtpVerb.Read, "READ <mailbox>", "Open a mailbox (INBOX, or your address)", SmtpState.Greeted, ReplyCatalogue.NestedMail),
        new(SmtpVerb.Next, "NEXT", "Send the next message of the open mailbox", SmtpState.Greeted, ReplyCatalogue.NestedMail),
        new(SmtpVerb.Prev, "PREV", "Send the previous message of the open mailbox", SmtpState.Greeted, ReplyCatalogue.NestedMail),
        new(SmtpVerb.Flag, "FLAG <important|read> [on|off]", "Change a flag of the current message", SmtpState.Greeted, ReplyCatalogue.NestedMail),
        new(SmtpVerb.Dele, "DELE [mailbox]", "Move the current message, or every message of a mailbox, to the trash", SmtpState.Greeted, ReplyCatalogue.NestedMail),
        new(SmtpVerb.List, "LIST", "List the open mailbox, one line per message", SmtpState.Greeted, ReplyCatalogue.NestedMail),
        new(SmtpVerb.Rtrn, "RTRN", "Close the mailbox and log out", SmtpState.Greeted, ReplyCatalogue.NestedMail),
        new(SmtpVerb.Xcaesar, "XCAESAR <shift>", "Caesar obfuscation of the connection (INSECURE: protects nothing; use STARTTLS)", SmtpState.Greeted, ReplyCatalogue.NestedMail, NeedsEhlo: true),
    ];

    private static readonly Dictionary<string, CommandInfo> ByName =
        Rows.ToDictionary(r => r.Name, StringComparer.OrdinalIgnoreCase);

    public static IReadOnlyList<CommandInfo> All => Rows;

    private static readonly Dictionary<SmtpVerb, CommandInfo> ByVerb = Rows.ToDictionary(r => r.Verb);

    public static CommandInfo Get(SmtpVerb verb) => ByVerb[verb];

    public static bool TryGet(string name, out CommandInfo info) => ByName.TryGetValue(name, out info!);

    private static readonly Dictionary<string, CommandInfo>.AlternateLookup<ReadOnlySpan<char>> ByNameSpan =
        ByName.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <inheritdoc cref="TryGet(string, out CommandInfo)"/>
    public static bool TryGet(ReadOnlySpan<char> name, out CommandInfo info) => ByNameSpan.TryGetValue(name, out info!);

    /// <summary>
    /// Null when <paramref name="verb"/> is legal in <paramref name="state"/> (after EHLO when
    /// <paramref name="extended"/>); otherwise the 503 5.5.1 reply that says why (RFC 5321 4.3.2
    /// "Bad sequence of commands").
    /// </summary>
    public static SmtpReply? CheckSequence(SmtpVerb verb, SmtpState state, bool extended = true)
    {
        var row = Get(verb);
        if ((row.AllowedIn & state) == 0)
        {
            return state switch
            {
                SmtpState.Connected => ReplyCatalogue.NeedHelo,
                SmtpState.Chunking => ReplyCatalogue.ChunkingInProgress,
                _ => row.OutOfSequence,
            };
        }

        return row.NeedsEhlo && !extended ? ReplyCatalogue.ExtensionsNeedEhlo.Format(row.Name) : null;
    }
}
