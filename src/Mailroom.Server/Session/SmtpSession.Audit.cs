using System.Globalization;
using Mailroom.Core.Audit;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;

namespace Mailroom.Server.Session;

/// <summary>
/// The session's side of the audit log: every command line and the reply it got, the
/// connection, TLS and log-ins. Events are built here and in the handlers where things happen;
/// their text comes from <see cref="AuditText"/>, which alone decides what of a line is kept.
/// </summary>
public sealed partial class SmtpSession
{
    private readonly AuditRecorder _audit;

    /// <summary>The last reply queued: reset before each command, so afterwards it is that command's final reply.</summary>
    private SmtpReply? _lastReply;

    /// <summary>An event of this session, stamped now, for the user logged in (if any).</summary>
    internal AuditEvent NewAuditEvent(string kind, AuditOutcome outcome = AuditOutcome.Ok) => _audit.Event(kind, outcome, AuthenticatedUser);

    /// <summary>Queues an entry for the audit log; never throws, never waits.</summary>
    internal void RecordAudit(AuditEvent entry) => _audit.Record(entry);

    /// <summary>
    /// Writes an entry that must be on disk before the reply that confirms what it records. False,
    /// with 451 4.3.0 queued, when it could not be written and the policy is to refuse: the caller
    /// then sends nothing else. The wait is bounded like any other (the command timeout, the hard stop).
    /// </summary>
    internal async Task<bool> RecordAuditDurablyAsync(AuditEvent entry)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(_dataCts.Token);
        wait.CancelAfter(Options.CommandTimeout);
        if (await _audit.RecordDurableAsync(entry, wait.Token).ConfigureAwait(false))
        {
            return true;
        }

        Reply(ReplyCatalogue.AuditUnavailable);
        return false;
    }

    /// <summary>
    /// True, with 451 4.3.0 queued, when <paramref name="verb"/> would start work that must be
    /// audited (a transaction; opening, reading or changing a mailbox, since reading marks a message
    /// read) while the audit log cannot be written and the
    /// policy is to refuse rather than carry on unaudited.
    /// </summary>
    private bool RefuseUnaudited(SmtpVerb verb)
    {
        if (verb is not (SmtpVerb.Mail or SmtpVerb.Read or SmtpVerb.Next or SmtpVerb.Prev or SmtpVerb.Dele or SmtpVerb.Flag) || !_audit.RefusesNewWork)
        {
            return false;
        }

        Log.AuditRefused(Logger, Connection.SessionId, AuditText.Verb(verb));
        Reply(ReplyCatalogue.AuditUnavailable);
        return true;
    }

    /// <summary>
    /// The entry for one command line, after its handler: the verb, its arguments without secrets,
    /// and the final reply (DATA's 250, not its 354). <paramref name="user"/> is who was logged in
    /// before the command, for a command that logs out (RTRN, STARTTLS). A handler cut short by a
    /// closed connection or a timeout is recorded with what it had answered so far, as deferred.
    /// </summary>
    private void AuditCommand(NextCommand line, string? user, Exception? interruption)
    {
        if (_audit.IsOff)
        {
            return;
        }

        var (verb, arguments) = line.Command is { } command
            ? (AuditText.Verb(command.Verb), AuditText.Arguments(command))
            : (line.AuditVerb ?? string.Empty, line.AuditArguments);
        var reply = _lastReply;

        // A command cut short after a 354 or STARTTLS's 220 did not succeed: it failed for now.
        var outcome = reply is null || (interruption is not null && reply.Code < 400) ? AuditOutcome.Deferred : AuditText.Outcome(reply);
        var entry = _audit.Event(AuditKinds.Command, outcome, AuthenticatedUser ?? user) with
        {
            Command = verb,
            Arguments = arguments,
            Reply = reply is null ? null : AuditText.Reply(reply),
            Detail = interruption is null ? null : "interrupted: " + Interruption(interruption),
        };
        RecordAudit(entry);
    }

    private static string Interruption(Exception exception) => exception switch
    {
        OperationCanceledException => "timeout or shutdown",
        System.Security.Authentication.AuthenticationException => "TLS handshake failed",
        IOException => "connection closed",
        _ => "error",
    };

    /// <summary>A log-in that reached a verdict: for the account tried (never the password), by which mechanism.</summary>
    private void AuditLogin(string user, string mechanism, SmtpReply reply) =>
        RecordAudit(_audit.Event(AuditKinds.Login, AuditText.Outcome(reply), AuditText.UserName(user)) with
        {
            Reply = AuditText.Reply(reply),
            Detail = mechanism,
        });

    private void AuditConnect(SmtpReply greeting)
    {
        RecordAudit(_audit.Event(AuditKinds.Connect, AuditOutcome.Ok, null) with
        {
            Reply = AuditText.Reply(greeting),
            Detail = Connection.Local.ToString(),
        });

        // RFC 8314 3: on an implicit TLS listener the handshake came before the session.
        if (Transport.IsTls)
        {
            AuditTls(null);
        }
    }

    /// <summary>A TLS handshake: its protocol and cipher, or (<paramref name="failure"/>) why it failed.</summary>
    private void AuditTls(Exception? failure) =>
        RecordAudit(NewAuditEvent(AuditKinds.Tls, failure is null ? AuditOutcome.Ok : AuditOutcome.Refused) with
        {
            Detail = failure is null ? Transport.TlsDescription : AuditText.TlsFailure(failure),
        });

    /// <summary>The end of the session: why, how many messages it carried, and the last word (QUIT's 221, a 421).</summary>
    private void AuditDisconnect(SessionEnd end)
    {
        var closedByClient = end == SessionEnd.ClientClosed;
        RecordAudit(NewAuditEvent(AuditKinds.Disconnect, end is SessionEnd.Quit or SessionEnd.ClientClosed ? AuditOutcome.Ok : AuditOutcome.Deferred) with
        {
            Reply = closedByClient || _lastReply is null ? null : AuditText.Reply(_lastReply),
            Detail = string.Create(CultureInfo.InvariantCulture, $"{end}; {MessagesAccepted} message(s) accepted"),
        });
    }
}
