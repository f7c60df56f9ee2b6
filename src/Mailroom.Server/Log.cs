using System.Net;
using Mailroom.Server.Session;
using Microsoft.Extensions.Logging;

namespace Mailroom.Server;

/// <summary>Diagnostic log lines with fixed event ids. Never a password, never a message body.</summary>
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Debug, "SMTP listener bound to {Endpoint}")]
    public static partial void Listening(ILogger logger, EndPoint endpoint);

    [LoggerMessage(1001, LogLevel.Information, "Session {SessionId} from {Remote} to {Local} started")]
    public static partial void SessionStarted(ILogger logger, string sessionId, IPEndPoint remote, IPEndPoint local);

    [LoggerMessage(1002, LogLevel.Information, "Session {SessionId} ended ({End}): {Messages} message(s) accepted, {Errors} protocol error(s), {DurationMs:F0} ms")]
    public static partial void SessionEnded(ILogger logger, string sessionId, SessionEnd end, int messages, int errors, double durationMs);

    [LoggerMessage(1003, LogLevel.Information, "Session {SessionId} accepted message {MessageId} from <{Sender}> for {Recipients} mailbox(es), {Size} octets")]
    public static partial void MessageAccepted(ILogger logger, string sessionId, string messageId, string sender, int recipients, long size);

    [LoggerMessage(1004, LogLevel.Information, "Session {SessionId} refused message {MessageId}: {Reason}")]
    public static partial void MessageRefused(ILogger logger, string sessionId, string messageId, string reason);

    [LoggerMessage(1005, LogLevel.Warning, "Connection from {Remote} refused: {Reason}")]
    public static partial void ConnectionRefused(ILogger logger, EndPoint? remote, string reason);

    [LoggerMessage(1006, LogLevel.Information, "Shutting down: {Sessions} session(s) open")]
    public static partial void ShuttingDown(ILogger logger, int sessions);

    [LoggerMessage(1007, LogLevel.Information, "Session {SessionId} started TLS: {Tls}")]
    public static partial void TlsStarted(ILogger logger, string sessionId, string tls);

    [LoggerMessage(1008, LogLevel.Information, "Session {SessionId}: TLS handshake failed: {Reason}")]
    public static partial void TlsFailed(ILogger logger, string sessionId, string reason);

    [LoggerMessage(1009, LogLevel.Information, "Session {SessionId} logged in as {User}")]
    public static partial void LoggedIn(ILogger logger, string sessionId, string user);

    [LoggerMessage(1010, LogLevel.Warning, "Session {SessionId} from {Address}: log-in failed")]
    public static partial void LoginFailed(ILogger logger, string sessionId, IPAddress address);

    [LoggerMessage(1011, LogLevel.Warning, "Session {SessionId} from {Address}: log-in refused, too many recent failures")]
    public static partial void LoginThrottled(ILogger logger, string sessionId, IPAddress address);

    [LoggerMessage(1012, LogLevel.Warning, "Session {SessionId} turned on the INSECURE Caesar obfuscation (shift {Shift})")]
    public static partial void CaesarStarted(ILogger logger, string sessionId, byte shift);

    [LoggerMessage(1013, LogLevel.Warning, "Session {SessionId}: the audit log cannot be written, so {Verb} was refused with 451 4.3.0 (Audit:OnFailure is Refuse)")]
    public static partial void AuditRefused(ILogger logger, string sessionId, string verb);

    [LoggerMessage(1100, LogLevel.Error, "Session {SessionId}: storage failure")]
    public static partial void StorageFailed(ILogger logger, Exception exception, string sessionId);

    [LoggerMessage(1101, LogLevel.Error, "Session {SessionId} failed")]
    public static partial void SessionFailed(ILogger logger, Exception exception, string sessionId);

    [LoggerMessage(1102, LogLevel.Error, "Accepting connections on {Endpoint} failed")]
    public static partial void AcceptFailed(ILogger logger, Exception exception, EndPoint? endpoint);

    [LoggerMessage(1103, LogLevel.Error, "Session {SessionId}: the audit log refused a {Kind} entry")]
    public static partial void AuditRecordFailed(ILogger logger, Exception exception, string sessionId, string kind);

    [LoggerMessage(1104, LogLevel.Error, "Session {SessionId}: the {Kind} entry for {Subject} could not be written to the audit log; the change stands but was answered 451 4.3.0, so a retry may repeat it")]
    public static partial void DurableAuditFailed(ILogger logger, Exception exception, string sessionId, string kind, string subject);

    [LoggerMessage(1105, LogLevel.Error, "Session {SessionId}: the {Kind} entry for {Subject} could not be written to the audit log; confirmed unaudited (Audit:OnFailure is Continue)")]
    public static partial void DurableAuditSkipped(ILogger logger, Exception exception, string sessionId, string kind, string subject);
}
