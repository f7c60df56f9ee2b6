using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Mailroom.Core.Storage;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Handlers;
using Mailroom.Server.Transport;
using Microsoft.Extensions.Logging;

namespace Mailroom.Server.Session;

/// <summary>Where a connection comes from and arrives at.</summary>
public sealed record ConnectionInfo(string SessionId, IPEndPoint Remote, IPEndPoint Local, ListenerRole Role = ListenerRole.Smtp)
{
    /// <summary>Sessions on submission listeners must log in before MAIL.</summary>
    public bool RequiresAuth => Role != ListenerRole.Smtp;
}

/// <summary>Why a session ended.</summary>
public enum SessionEnd
{
    Quit,
    ClientClosed,
    Timeout,

    /// <summary>A budget ran out: protocol errors, refused recipients or junk commands, or the command framing was lost.</summary>
    TooManyErrors,
    Shutdown,

    /// <summary>The store failed while a message was being sent after its octet count (NEXT, PREV): closing was the only way to keep the framing.</summary>
    StoreFailed,
}

/// <summary>
/// One SMTP conversation over a duplex pipe. The loop reads a line, checks it against the command
/// table, and hands it to the verb's handler; replies are written to the pipe and flushed only
/// when no further complete command is already buffered, so a pipelined group (RFC 2920) gets its
/// replies in one batch.
/// <para>
/// Failures are handled in three places: protocol errors where <see cref="ReplyProtocolError"/>
/// counts them; storage faults in <see cref="ReplyStorageFailure"/>; broken connections and bugs
/// in the one catch of <see cref="RunAsync"/>.
/// </para>
/// </summary>
public sealed partial class SmtpSession : IAsyncDisposable
{
    private readonly ISmtpTransport _transport;
    private readonly CancellationTokenSource _commandCts;

    /// <summary>Data, flushes that wait, log-ins, the TLS handshake: only the hard stop and its own timer cancel it.</summary>
    private LazyTokenSource _dataCts;
    private readonly CancellationToken _graceful;
    private readonly CancellationToken _hardStop;
    private LineReader _lineReader;
    private bool _needMoreInput;
    private int _protocolErrors;
    private int _recipientRefusals;
    private int _junkCommands;
    private int _authFailures;
    private Task<string?>? _reverseName;

    /// <param name="transport">The connection, as pipes.</param>
    /// <param name="services">Settings and the store.</param>
    /// <param name="connection">Addresses and the session id.</param>
    /// <param name="graceful">Signalled when the server begins to shut down: an idle session ends with 421 4.3.2.</param>
    /// <param name="hardStop">Signalled when the shutdown grace period is over: a transfer in progress is cut.</param>
    public SmtpSession(IDuplexPipe transport, SmtpServices services, ConnectionInfo connection, CancellationToken graceful, CancellationToken hardStop)
        : this(new PipeTransport(transport), services, connection, graceful, hardStop)
    {
    }

    /// <param name="transport">The connection, which STARTTLS may upgrade.</param>
    /// <param name="services">Settings and the store.</param>
    /// <param name="connection">Addresses and the session id.</param>
    /// <param name="graceful">Signalled when the server begins to shut down: an idle session ends with 421 4.3.2.</param>
    /// <param name="hardStop">Signalled when the shutdown grace period is over: a transfer in progress is cut.</param>
    public SmtpSession(ISmtpTransport transport, SmtpServices services, ConnectionInfo connection, CancellationToken graceful, CancellationToken hardStop)
    {
        ArgumentNullException.ThrowIfNull(transport);
        _transport = transport;
        Services = services;
        Connection = connection;
        _graceful = graceful;
        _hardStop = hardStop;
        _commandCts = CancellationTokenSource.CreateLinkedTokenSource(graceful, hardStop);
        _dataCts = new LazyTokenSource(hardStop);
        _audit = new AuditRecorder(services, connection);
    }

    public SmtpServices Services { get; }

    public ISmtpTransport Transport => _transport;

    private PipeReader Input => _transport.Input;

    private PipeWriter Output => _transport.Output;

    public SmtpServerOptions Options => Services.Options;

    public ConnectionInfo Connection { get; }

    public SmtpState State { get; internal set; } = SmtpState.Connected;

    /// <summary>The identity the client gave in HELO or EHLO.</summary>
    public string? ClientIdentity { get; internal set; }

    /// <summary>True after EHLO: the service extensions apply (RFC 5321 2.2.1).</summary>
    public bool IsExtended { get; internal set; }

    public int MessagesAccepted { get; internal set; }

    /// <summary>The account the client logged in as (AUTH or LOGN), or null.</summary>
    public string? AuthenticatedUser => LoggedInAccount?.Address;

    internal Account? LoggedInAccount { get; private set; }

    /// <summary>The mailbox opened with READ, if any.</summary>
    internal MailboxView? OpenMailbox { get; set; }

    /// <summary>
    /// The mailbox commands work here: on submission listeners always, on the MX listener only
    /// when the configuration says so.
    /// </summary>
    public bool MailboxCommandsEnabled => Connection.Role != ListenerRole.Smtp || Options.MailboxCommandsOnMx;

    /// <summary>XCAESAR is offered: the configuration allows it, and the connection has neither TLS nor Caesar yet.</summary>
    public bool CanStartCaesar => Options.AllowCaesarObfuscation && Transport.CanStartCaesar;

    /// <summary>
    /// AUTH and LOGN are offered and accepted: there is an authenticator, and the password would
    /// travel under TLS (or on loopback, when the configuration says so).
    /// </summary>
    public bool CanAuthenticate => Services.Authenticator is not null &&
        (Transport.IsTls || (Options.AllowPlaintextAuthOnLoopback && IPAddress.IsLoopback(Connection.Remote.Address)));

    internal MailTransaction? Transaction { get; set; }

    internal bool QuitRequested { get; set; }

    internal ILogger Logger => Services.Logger;

    /// <summary>Runs the conversation to its end; never throws for anything the client does.</summary>
    public async Task<SessionEnd> RunAsync()
    {
        var started = Services.Time.GetTimestamp();
        Log.SessionStarted(Logger, Connection.SessionId, Connection.Remote, Connection.Local);
        var end = SessionEnd.ClientClosed;
        try
        {
            // The lookup ends with the hard stop (the session's data token is only ever cancelled
            // with the session, too); it has a timeout of its own.
            StartReverseLookup(Services.ReverseDns.LookupAsync(Connection.Remote.Address, _hardStop));
            var greeting = Services.Greeting;
            Reply(greeting);
            AuditConnect(greeting);

            // The loop is here and not in a method of its own: every async method still waiting
            // keeps its state machine, and an idle session waits in this one.
            SessionEnd? ended;
            do
            {
                // A BDAT transfer in progress is finished like DATA is: only the hard stop cuts it.
                if (State != SmtpState.Chunking)
                {
                    _graceful.ThrowIfCancellationRequested();
                }

                if (!_needMoreInput && !InputBuffered())
                {
                    // Idle: the wait holds no pipe and no buffer (see ISmtpTransport.WaitForInputAsync).
                    // The timeout is the one a read would have; between BDAT chunks a shutdown waits.
                    await FlushAsync().ConfigureAwait(false);
                    var idle = State == SmtpState.Chunking ? _dataCts.Source : _commandCts;
                    idle.CancelAfter(Options.CommandTimeout);
                    try
                    {
                        await _transport.WaitForInputAsync(idle.Token).ConfigureAwait(false);
                    }
                    finally
                    {
                        idle.TryReset();
                    }
                }

                var next = await ReadCommandLineAsync().ConfigureAwait(false);
                ended = next.Closed ? SessionEnd.ClientClosed : await AnswerAsync(next).ConfigureAwait(false);
            }
            while (ended is null);
            end = ended.Value;
        }
        catch (OperationCanceledException)
        {
            end = _graceful.IsCancellationRequested ? SessionEnd.Shutdown : SessionEnd.Timeout;
            await TryFinalReplyAsync(end == SessionEnd.Shutdown
                ? ReplyCatalogue.ShuttingDown.Format(Options.HostName)
                : ReplyCatalogue.Timeout).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The peer reset the connection (ConnectionClosedException is one too): nothing more can be said.
            end = SessionEnd.ClientClosed;
        }
        catch (MessageBodyFailedException ex)
        {
            // The reply promised N octets and fewer went out: any reply now would be read as
            // message content, so the connection closes without one.
            Log.StorageFailed(Logger, ex.InnerException!, Connection.SessionId);
            end = SessionEnd.StoreFailed;
        }
        catch (System.Security.Authentication.AuthenticationException ex)
        {
            // A failed TLS handshake: there is no channel left to reply on.
            Log.TlsFailed(Logger, Connection.SessionId, ex.Message);
            end = SessionEnd.ClientClosed;
        }
#pragma warning disable CA1031 // One top-level catch per connection: a bug ends this session, never the server.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SessionFailed(Logger, ex, Connection.SessionId);
            end = SessionEnd.ClientClosed;
            await TryFinalReplyAsync(ReplyCatalogue.StorageFailure).ConfigureAwait(false);
        }
        finally
        {
            // Aborts a message still being received: nothing of it stays.
            await ResetTransactionAsync().ConfigureAwait(false);
        }

        Log.SessionEnded(Logger, Connection.SessionId, end, MessagesAccepted, _protocolErrors, Services.Time.GetElapsedTime(started).TotalMilliseconds);
        AuditDisconnect(end);
        return end;
    }

    /// <summary>Answers one command line; the way the session ends if it ends here, or null to read the next.</summary>
    private async ValueTask<SessionEnd?> AnswerAsync(NextCommand next)
    {
        await RunCommandAsync(next).ConfigureAwait(false);
        if (next.Fatal)
        {
            await FlushAsync().ConfigureAwait(false);
            return SessionEnd.TooManyErrors;
        }

        if (QuitRequested)
        {
            await FlushAsync().ConfigureAwait(false);
            return SessionEnd.Quit;
        }

        var budget = _protocolErrors >= Options.MaxProtocolErrors ? ReplyCatalogue.TooManyErrors
            : _authFailures >= Options.MaxAuthFailuresPerSession ? ReplyCatalogue.TooManyAuthFailures
            : _recipientRefusals >= Options.MaxRecipientRefusals ? ReplyCatalogue.TooManyRefusedRecipients
            : _junkCommands >= Options.MaxJunkCommands ? ReplyCatalogue.TooManyJunkCommands
            : null;
        if (budget is not null)
        {
            Reply(budget);
            await FlushAsync().ConfigureAwait(false);
            return SessionEnd.TooManyErrors;
        }

        return null;
    }

    /// <summary>True when input is already buffered (or the end of it): the next read will not wait.</summary>
    private bool InputBuffered()
    {
        if (!Input.TryRead(out var result))
        {
            return false;
        }

        Input.AdvanceTo(result.Buffer.Start);
        return true;
    }

    /// <summary>Answers one command line (or the error that it is not one), then records it in the audit log.</summary>
    private async Task RunCommandAsync(NextCommand next)
    {
        _lastReply = null;
        var user = AuthenticatedUser;
        try
        {
            if (next.Fatal)
            {
                Reply(next.Error!);
            }
            else if (next.Error is not null)
            {
                ReplyProtocolError(next.Error);
            }
            else
            {
                await DispatchAsync(next.Command!).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            AuditCommand(next, user, ex);
            throw;
        }

        AuditCommand(next, user, null);
    }

    /// <summary>Checks the command table, then runs the verb's handler: the only dispatch on the verb.</summary>
    private async Task DispatchAsync(SmtpCommand command)
    {
        if (CommandTable.Get(command.Verb).IsJunk)
        {
            _junkCommands++;
        }

        var refusal = CommandTable.CheckSequence(command.Verb, State, IsExtended);
        if (refusal is not null)
        {
            if (command is BdatCommand bdat)
            {
                // The chunk follows the command whatever the answer: read it, or it would be taken for commands.
                await DiscardAsync(bdat.ChunkSize).ConfigureAwait(false);
            }

            ReplyProtocolError(refusal);
            return;
        }

        if (RefuseUnaudited(command.Verb))
        {
            return;
        }

        var work = command switch
        {
            HeloCommand { Verb: SmtpVerb.Ehlo } ehlo => EhloHandler.HandleAsync(this, ehlo),
            HeloCommand helo => HeloHandler.HandleAsync(this, helo),
            MailCommand mail => MailHandler.HandleAsync(this, mail),
            RcptCommand rcpt => RcptHandler.HandleAsync(this, rcpt),
            BdatCommand bdat => BdatHandler.HandleAsync(this, bdat),
            { Verb: SmtpVerb.Data } => DataHandler.HandleAsync(this),
            { Verb: SmtpVerb.Rset } => RsetHandler.HandleAsync(this),
            { Verb: SmtpVerb.Noop } => NoopHandler.HandleAsync(this),
            { Verb: SmtpVerb.Quit } => QuitHandler.HandleAsync(this),
            ArgumentCommand { Verb: SmtpVerb.Help } help => HelpHandler.HandleAsync(this, help),
            ArgumentCommand { Verb: SmtpVerb.Vrfy } vrfy => VrfyHandler.HandleAsync(this, vrfy),
            ArgumentCommand { Verb: SmtpVerb.Expn } expn => ExpnHandler.HandleAsync(this, expn),
            { Verb: SmtpVerb.Starttls } => StarttlsHandler.HandleAsync(this),
            AuthCommand auth => AuthHandler.HandleAsync(this, auth),
            LognCommand logn => LognHandler.HandleAsync(this, logn),
            CaesarCommand caesar => XcaesarHandler.HandleAsync(this, caesar),
            ArgumentCommand { Verb: SmtpVerb.Read } read => ReadHandler.HandleAsync(this, read),
            { Verb: SmtpVerb.Next } => NextHandler.HandleAsync(this),
            { Verb: SmtpVerb.Prev } => PrevHandler.HandleAsync(this),
            FlagCommand flag => FlagHandler.HandleAsync(this, flag),
            ArgumentCommand { Verb: SmtpVerb.Dele } dele => DeleHandler.HandleAsync(this, dele),
            { Verb: SmtpVerb.List } => ListHandler.HandleAsync(this),
            { Verb: SmtpVerb.Rtrn } => RtrnHandler.HandleAsync(this),
            _ => throw new InvalidOperationException($"No handler for {command.Verb}."),
        };
        await work.ConfigureAwait(false);
    }

    /// <summary>Queues a reply; it goes out with the next flush.</summary>
    public void Reply(SmtpReply reply)
    {
        _lastReply = reply;
        ReplyFormatter.Write(reply, Output);
    }

    /// <summary>Queues a reply to a protocol error and counts the error toward the session's budget.</summary>
    internal void ReplyProtocolError(SmtpReply reply)
    {
        _protocolErrors++;
        Reply(reply);
    }

    /// <summary>Queues the refusal of a recipient (550, 553) and counts it toward the session's budget.</summary>
    internal void ReplyRecipientRefused(SmtpReply reply)
    {
        _recipientRefusals++;
        Reply(reply);
    }

    /// <summary>A message was accepted: the session is doing what sessions are for.</summary>
    internal void CountAcceptedMessage()
    {
        MessagesAccepted++;
        _junkCommands = 0;
        _recipientRefusals = 0;
    }

    /// <summary>
    /// The one place a storage fault becomes a reply: 451 4.3.0, or 452 4.3.1 when the store is
    /// full. The detail goes to the log, never to the client.
    /// </summary>
    internal SmtpReply StorageFailureReply(StorageException ex)
    {
        Log.StorageFailed(Logger, ex, Connection.SessionId);
        return ex.IsFull ? ReplyCatalogue.StorageFull : ReplyCatalogue.StorageFailure;
    }

    internal void ReplyStorageFailure(StorageException ex) => Reply(StorageFailureReply(ex));

    /// <summary>
    /// HELO and EHLO alike: RFC 5321 4.1.4 lets either come at any time, and either ends the
    /// transaction in progress as RSET would.
    /// </summary>
    internal async ValueTask GreetAsync(string identity, bool extended)
    {
        await ResetTransactionAsync().ConfigureAwait(false);
        ClientIdentity = identity;
        IsExtended = extended;
        State = SmtpState.Greeted;
    }

    /// <summary>
    /// The one log-in path, for AUTH and LOGN alike: the throttle first, then the password check
    /// (as slow for an unknown user as for a known one), then 235 or, after a delay that grows
    /// with each failure, 535 5.7.8. Neither the password nor the reason it failed is logged or sent.
    /// </summary>
    internal async Task LogInAsync(string user, string password, string mechanism)
    {
        if (LoginBlocked(user, mechanism))
        {
            return;
        }

        Account? account;
        try
        {
            account = await Services.Authenticator!.VerifyAsync(user, password, _dataCts.Token).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            LoginBusy(user, mechanism);
            return;
        }
        catch (StorageException ex)
        {
            LoginStoreFailed(ex, user, mechanism);
            return;
        }

        if (account is null)
        {
            await LoginFailedAsync(user, mechanism).ConfigureAwait(false);
            return;
        }

        LoggedIn(account, mechanism);
    }

    /// <summary>
    /// True, with the reply queued, when no log-in may start here: already logged in (503 5.5.1),
    /// or the password would travel in clear (538 5.7.11).
    /// </summary>
    internal bool RefuseLogIn()
    {
        if (AuthenticatedUser is not null)
        {
            ReplyProtocolError(ReplyCatalogue.AlreadyAuthenticated);
            return true;
        }

        if (!CanAuthenticate)
        {
            Reply(ReplyCatalogue.AuthNeedsTls);
            return true;
        }

        return false;
    }

    /// <summary>
    /// Counts a log-in attempt before its (slow) check; true, with 454 4.7.0 queued, when this
    /// address, or this address for this account, has failed too often lately.
    /// </summary>
    internal bool LoginBlocked(string user, string mechanism)
    {
        if (Services.Logins.TryBeginAttempt(Connection.Remote.Address, user))
        {
            return false;
        }

        _authFailures++;
        Log.LoginThrottled(Logger, Connection.SessionId, Connection.Remote.Address);
        Reply(ReplyCatalogue.AuthThrottled);
        AuditLogin(user, mechanism, ReplyCatalogue.AuthThrottled);
        return true;
    }

    /// <summary>Counts a failed log-in, waits the throttle's delay, then queues 535 5.7.8.</summary>
    internal async Task LoginFailedAsync(string user, string mechanism)
    {
        _authFailures++;
        var delay = Services.Logins.RecordFailure(Connection.Remote.Address, user);
        Log.LoginFailed(Logger, Connection.SessionId, Connection.Remote.Address);

        // Recorded at the verdict, before the delay, so a client that hangs up then is still on record.
        AuditLogin(user, mechanism, ReplyCatalogue.AuthFailed);
        await Task.Delay(delay, Services.Time, _dataCts.Token).ConfigureAwait(false);
        Reply(ReplyCatalogue.AuthFailed);
    }

    /// <summary>
    /// The store could not be asked (the database is down): RFC 4954 6, "454 4.7.0 Temporary
    /// authentication failure: This response to the AUTH command indicates that the
    /// authentication failed due to a temporary server failure." Not a failed attempt for the
    /// throttle, which gives it back; it counts toward the session's own limit, so one client
    /// cannot keep retrying on one connection while each try waits for the database.
    /// </summary>
    internal void LoginStoreFailed(StorageException ex, string user, string mechanism)
    {
        _authFailures++;
        Log.StorageFailed(Logger, ex, Connection.SessionId);
        LoginBusy(user, mechanism);
    }

    /// <summary>Every password-checking slot stayed busy: a temporary failure, counted against nobody.</summary>
    internal void LoginBusy(string user, string mechanism)
    {
        Services.Logins.CancelAttempt(Connection.Remote.Address, user);
        Reply(ReplyCatalogue.AuthBusy);
        AuditLogin(user, mechanism, ReplyCatalogue.AuthBusy);
    }

    internal void LoggedIn(Account account, string mechanism)
    {
        Services.Logins.RecordSuccess(Connection.Remote.Address, account.Address);
        LoggedInAccount = account;
        Log.LoggedIn(Logger, Connection.SessionId, account.Address);
        Reply(ReplyCatalogue.AuthSucceeded);
        AuditLogin(account.Address, mechanism, ReplyCatalogue.AuthSucceeded);
    }

    /// <summary>RTRN: the mailbox closes and the user is logged out; the greeting stands.</summary>
    internal async Task LogOutAsync()
    {
        await ResetTransactionAsync().ConfigureAwait(false);
        OpenMailbox = null;
        LoggedInAccount = null;
    }

    /// <summary>Turns the Caesar obfuscation on; the session itself goes on as it was.</summary>
    internal async Task StartCaesarAsync(byte shift)
    {
        await _transport.StartCaesarAsync(shift).ConfigureAwait(false);
        ResetLineReader();
        Log.CaesarStarted(Logger, Connection.SessionId, shift);
    }

    /// <summary>
    /// Upgrades the connection to TLS and starts the session over (RFC 3207 4.2): no greeting,
    /// no extensions, no transaction, and no half-read line survive.
    /// </summary>
    internal async Task StartTlsAsync()
    {
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(_dataCts.Token);
        handshake.CancelAfter(Options.TlsHandshakeTimeout);
        try
        {
            await _transport.StartTlsAsync(handshake.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Security.Authentication.AuthenticationException or OperationCanceledException or IOException)
        {
            AuditTls(ex);
            throw;
        }

        await ResetTransactionAsync().ConfigureAwait(false);
        State = SmtpState.Connected;
        ClientIdentity = null;
        IsExtended = false;
        LoggedInAccount = null;
        OpenMailbox = null;
        ResetLineReader();
        Log.TlsStarted(Logger, Connection.SessionId, _transport.TlsDescription ?? string.Empty);
        AuditTls(null);
    }

    /// <summary>Ends the current transaction, aborting a store writer that was not committed.</summary>
    internal async ValueTask ResetTransactionAsync()
    {
        if (Transaction is not null)
        {
            await Transaction.DisposeAsync().ConfigureAwait(false);
            Transaction = null;
        }

        if (State is not SmtpState.Connected)
        {
            State = SmtpState.Greeted;
        }
    }

    internal Task<string?> ReverseNameAsync() => _reverseName ?? NoName;

    private static readonly Task<string?> NoName = Task.FromResult<string?>(null);

    /// <summary>
    /// Keeps the lookup's answer, not the lookup: its finished state machine (168 bytes) would
    /// otherwise stay with an idle session until the session ends.
    /// </summary>
    private void StartReverseLookup(Task<string?> lookup)
    {
        _reverseName = lookup;
        if (lookup.IsCompleted)
        {
            _reverseName = Answer(lookup);
        }
        else
        {
            lookup.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(() => _reverseName = Answer(lookup));
        }

        static Task<string?> Answer(Task<string?> done) =>
            !done.IsCompletedSuccessfully ? done : done.Result is { } name ? Task.FromResult<string?>(name) : NoName;
    }

    /// <summary>Sends a stored message's octets right behind the replies queued so far.</summary>
    internal async Task SendRawAsync(Stream content)
    {
        _dataCts.Source.CancelAfter(Options.CommandTimeout);
        try
        {
            await content.CopyToAsync(Output, _dataCts.Token).ConfigureAwait(false);
        }
        catch (StorageException ex)
        {
            throw new MessageBodyFailedException(ex);
        }
        finally
        {
            _dataCts.Source.TryReset();
        }
    }

    /// <summary>
    /// Sends the queued replies. A shutdown does not interrupt it (a 250 already earned still goes
    /// out); a client that stops reading is cut off after the command timeout.
    /// </summary>
    internal async ValueTask FlushAsync()
    {
        // No token at first: a flush the socket takes at once needs no token source, no
        // registration and no timer, so an idle session never makes them.
        var output = Output;
        var flush = output.FlushAsync(CancellationToken.None);
        FlushResult result;
        if (flush.IsCompleted)
        {
            result = flush.Result;
        }
        else
        {
            // The client is not reading: the timeout runs from now, while the flush waits, and
            // the timeout or the hard stop cancels the flush.
            var data = _dataCts.Source;
            data.CancelAfter(Options.CommandTimeout);
            try
            {
                using (data.Token.UnsafeRegister(static writer => ((PipeWriter)writer!).CancelPendingFlush(), output))
                {
                    result = await flush.ConfigureAwait(false);
                }

                if (result.IsCanceled)
                {
                    throw new OperationCanceledException(data.Token);
                }
            }
            finally
            {
                data.TryReset();
            }
        }

        if (result.IsCompleted)
        {
            throw new ConnectionClosedException();
        }
    }

    private async ValueTask TryFinalReplyAsync(SmtpReply reply)
    {
        try
        {
            Reply(reply);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await Output.FlushAsync(cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            // The peer is gone or not reading; the session ends either way.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _commandCts.Dispose();
        _dataCts.Dispose();
        await _transport.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>
/// A token source linked to <paramref name="parent"/>, made when first used: most sessions wait
/// idle far longer than they transfer anything, and an idle one then holds none (about 290
/// bytes with its registrations). A mutable struct: keep it in one field and use it only there.
/// </summary>
internal struct LazyTokenSource(CancellationToken parent)
{
    private CancellationTokenSource? _source;

    public CancellationTokenSource Source => _source ??= CancellationTokenSource.CreateLinkedTokenSource(parent);

    public CancellationToken Token => Source.Token;

    public readonly void Dispose() => _source?.Dispose();
}

/// <summary>
/// Reading a stored message failed after its octet count was sent (a database gone, a message
/// purged by another node mid-read): the session ends without another reply.
/// </summary>
internal sealed class MessageBodyFailedException(StorageException inner)
    : Exception("Reading the message failed after its octet count was sent.", inner);

/// <summary>The peer closed the connection while the server still had something to say or read.</summary>
public sealed class ConnectionClosedException : IOException
{
    public ConnectionClosedException()
        : base("The connection was closed by the peer.")
    {
    }

    public ConnectionClosedException(string message)
        : base(message)
    {
    }

    public ConnectionClosedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
