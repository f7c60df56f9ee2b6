using Mailroom.Core.Accounts;
using Mailroom.Core.Storage;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Protocol.Sasl;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>
/// AUTH (RFC 4954) with SASL PLAIN (RFC 4616) and LOGIN. Offered and accepted only under TLS
/// (538 5.7.11 otherwise), never twice (503), never inside a transaction (the command table).
/// A response that is not base64, or a PLAIN message that is not three parts, is 501 5.5.2;
/// "*" cancels with 501.
/// </summary>
internal static class AuthHandler
{
    public const string Mechanisms = ScramSha256.Name + " PLAIN LOGIN";

    public static async Task HandleAsync(SmtpSession session, AuthCommand command)
    {
        if (session.RefuseLogIn())
        {
            return;
        }

        if (command.Mechanism == ScramSha256.Name)
        {
            await ScramAsync(session, command.InitialResponse).ConfigureAwait(false);
            return;
        }

        var credentials = command.Mechanism switch
        {
            "PLAIN" => await PlainAsync(session, command.InitialResponse).ConfigureAwait(false),
            "LOGIN" => await LoginAsync(session, command.InitialResponse).ConfigureAwait(false),
            _ => Failed(ReplyCatalogue.AuthMechanismUnknown),
        };
        if (credentials.Failure is not null)
        {
            session.ReplyProtocolError(credentials.Failure);
            return;
        }

        await session.LogInAsync(credentials.User!, credentials.Password!, command.Mechanism).ConfigureAwait(false);
    }

    private readonly record struct Credentials(string? User, string? Password, SmtpReply? Failure);

    private static Credentials Failed(SmtpReply reply) => new(null, null, reply);

    /// <summary>RFC 4616: one message, as the initial response or after an empty challenge.</summary>
    private static async Task<Credentials> PlainAsync(SmtpSession session, string? initial)
    {
        var response = initial ?? await ChallengeAsync(session, string.Empty).ConfigureAwait(false);
        if (response is null || SaslMessages.IsCancel(response))
        {
            return Failed(response is null ? ReplyCatalogue.AuthMalformed : ReplyCatalogue.AuthCancelled);
        }

        return SaslMessages.TryDecodeBase64(response, out var bytes) && SaslMessages.TryParsePlain(bytes, out var user, out var password)
            ? new Credentials(user, password, null)
            : Failed(ReplyCatalogue.AuthMalformed);
    }

    /// <summary>LOGIN (draft-murchison-sasl-login): "Username:" then "Password:", each base64.</summary>
    private static async Task<Credentials> LoginAsync(SmtpSession session, string? initial)
    {
        var user = await DecodeStepAsync(session, initial, SaslMessages.Encode("Username:")).ConfigureAwait(false);
        if (user.Failure is not null)
        {
            return user;
        }

        var password = await DecodeStepAsync(session, null, SaslMessages.Encode("Password:")).ConfigureAwait(false);
        return password.Failure is not null ? password : new Credentials(user.User, password.User, null);
    }

    /// <summary>
    /// SCRAM-SHA-256 (RFC 5802, RFC 7677): the password never crosses the wire, not even under
    /// TLS, and the server proves it knows the credential too. The check itself is cheap (the
    /// stored hash is the salted password); the client does the slow part.
    /// </summary>
    private static async Task ScramAsync(SmtpSession session, string? initial)
    {
        var firstText = await DecodeStepAsync(session, initial, string.Empty).ConfigureAwait(false);
        if (firstText.Failure is not null || !ScramSha256.TryParseClientFirst(firstText.User!, out var first))
        {
            session.ReplyProtocolError(firstText.Failure ?? ReplyCatalogue.AuthMalformed);
            return;
        }

        if (session.LoginBlocked(first!.User, ScramSha256.Name))
        {
            return;
        }

        ScramCredential credential;
        try
        {
            credential = await session.Services.Authenticator!.FindScramCredentialAsync(first.User, CancellationToken.None).ConfigureAwait(false);
        }
        catch (StorageException ex)
        {
            session.LoginStoreFailed(ex, first.User, ScramSha256.Name);
            return;
        }

        var serverFirst = ScramSha256.ServerFirst(first, credential.Keys.Salt, credential.Keys.Iterations);
        var finalText = await DecodeStepAsync(session, null, SaslMessages.Encode(serverFirst)).ConfigureAwait(false);
        if (finalText.Failure is not null)
        {
            session.ReplyProtocolError(finalText.Failure);
            return;
        }

        if (credential.Account is null || !ScramSha256.TryVerifyClientFinal(first, serverFirst, finalText.User!, credential.Keys.StoredKey, credential.Keys.ServerKey, out var serverFinal))
        {
            await session.LoginFailedAsync(first.User, ScramSha256.Name).ConfigureAwait(false);
            return;
        }

        // RFC 4954 4: the server's final SCRAM message goes in a 334, answered by an empty response.
        var ack = await ChallengeAsync(session, SaslMessages.Encode(serverFinal)).ConfigureAwait(false);
        if (ack is null || SaslMessages.IsCancel(ack) || !SaslMessages.TryDecodeBase64(ack, out var rest) || rest.Length != 0)
        {
            session.ReplyProtocolError(ack is not null && SaslMessages.IsCancel(ack) ? ReplyCatalogue.AuthCancelled : ReplyCatalogue.AuthMalformed);
            return;
        }

        session.LoggedIn(credential.Account, ScramSha256.Name);
    }

    /// <summary>One SASL step whose payload is UTF-8 text: the given response, or a challenge's answer.</summary>
    private static async Task<Credentials> DecodeStepAsync(SmtpSession session, string? given, string challenge)
    {
        var response = given ?? await ChallengeAsync(session, challenge).ConfigureAwait(false);
        if (response is null || SaslMessages.IsCancel(response))
        {
            return Failed(response is null ? ReplyCatalogue.AuthMalformed : ReplyCatalogue.AuthCancelled);
        }

        return SaslMessages.TryDecodeBase64(response, out var bytes) && SaslMessages.TryDecodeText(bytes, out var text)
            ? new Credentials(text, null, null)
            : Failed(ReplyCatalogue.AuthMalformed);
    }

    /// <summary>RFC 4954 4: a 334 challenge, then the client's one-line response.</summary>
    private static async Task<string?> ChallengeAsync(SmtpSession session, string challenge)
    {
        session.Reply(ReplyCatalogue.SaslChallenge.Format(challenge));
        await session.FlushAsync().ConfigureAwait(false);
        return await session.ReadSaslResponseAsync().ConfigureAwait(false);
    }
}
