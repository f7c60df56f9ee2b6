using System.Globalization;
using System.Text;
using Mailroom.Protocol.Replies;
using Mailroom.Protocol.Sasl;

namespace Mailroom.Client;

public sealed partial class SmtpConnection
{
    private const string Redacted = "<redacted>";

    /// <summary>
    /// AUTH (RFC 4954) with the strongest mechanism the server offers: SCRAM-SHA-256 (the password
    /// never travels, and the server proves it knows it too), then PLAIN, then LOGIN. A refusal
    /// (535 and the like) is an <see cref="SmtpCommandException"/>; a server whose SCRAM signature
    /// does not verify is an impostor: <see cref="SmtpSecurityException"/>.
    /// </summary>
    /// <exception cref="SmtpSecurityException">
    /// The connection is not TLS and the options did not choose <see cref="TlsMode.None"/> (nothing is
    /// sent), the server offers none of these mechanisms, or its SCRAM proof does not verify.
    /// </exception>
    public async Task AuthenticateAsync(string user, string password, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentException.ThrowIfNullOrEmpty(password);
        EnsureOneLine(user, nameof(user));
        EnsureOneLine(password, nameof(password));
        EnsureUsable();
        EnsureSafeForCredentials("AUTH");
        var offered = _extensions.TryGetValue("AUTH", out var mechanisms)
            ? mechanisms.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase)
            : [];
        if (offered.Contains(ScramSha256.Name))
        {
            await ScramAsync(user, password, cancellationToken).ConfigureAwait(false);
        }
        else if (offered.Contains("PLAIN"))
        {
            // RFC 4616 2: message = [authzid] UTF8NUL authcid UTF8NUL passwd.
            var response = SaslMessages.Encode($"\0{user}\0{password}");
            Expect("AUTH PLAIN", await CommandAsync("AUTH PLAIN " + response, "AUTH PLAIN " + Redacted, cancellationToken).ConfigureAwait(false), 235);
        }
        else if (offered.Contains("LOGIN"))
        {
            ExpectContinue("AUTH LOGIN", await CommandAsync("AUTH LOGIN", null, cancellationToken).ConfigureAwait(false));
            ExpectContinue("AUTH LOGIN", await CommandAsync(SaslMessages.Encode(user), Redacted, cancellationToken).ConfigureAwait(false));
            Expect("AUTH LOGIN", await CommandAsync(SaslMessages.Encode(password), Redacted, cancellationToken).ConfigureAwait(false), 235);
        }
        else
        {
            throw new SmtpSecurityException("The server offers no AUTH mechanism this client knows (SCRAM-SHA-256, PLAIN, LOGIN).");
        }

        AuthenticatedUser = user;
    }

    /// <summary>RFC 5802 5 over RFC 4954 4: the initial response carries client-first; an empty line answers the server's v=.</summary>
    private async Task ScramAsync(string user, string password, CancellationToken cancellationToken)
    {
        var scram = new ScramSha256Client(user, password, minimumIterations: _options.MinimumScramIterations);
        var first = SaslMessages.Encode(scram.ClientFirst);
        var serverFirst = ExpectContinue("AUTH", await CommandAsync($"AUTH {ScramSha256.Name} {first}", $"AUTH {ScramSha256.Name} {Redacted}", cancellationToken).ConfigureAwait(false));
        if (!scram.TryClientFinal(serverFirst, out var clientFinal))
        {
            await CancelSaslAsync(cancellationToken).ConfigureAwait(false);
            if (scram.TooFewIterations is { } iterations)
            {
                throw new SmtpSecurityException(string.Create(CultureInfo.InvariantCulture,
                    $"The server asks for {iterations} SCRAM iterations; at least {_options.MinimumScramIterations} are required (RFC 7677 4)."));
            }

            throw new SmtpProtocolException("The server's SCRAM challenge does not parse or does not extend our nonce.");
        }

        var reply = await CommandAsync(SaslMessages.Encode(clientFinal), Redacted, cancellationToken).ConfigureAwait(false);
        var serverFinal = ExpectContinue("AUTH", reply);
        if (!scram.VerifyServerFinal(serverFinal))
        {
            // RFC 5802 9: a server that cannot prove it knows the password is not the server we meant.
            await CancelSaslAsync(cancellationToken).ConfigureAwait(false);
            _broken = true;
            throw new SmtpSecurityException("The server's SCRAM signature does not verify; it does not know the password.");
        }

        Expect("AUTH", await CommandAsync(string.Empty, null, cancellationToken).ConfigureAwait(false), 235);
    }

    /// <summary>RFC 4954 4: "*" cancels an exchange; the server answers 501.</summary>
    private async Task CancelSaslAsync(CancellationToken cancellationToken) =>
        await CommandAsync("*", null, cancellationToken).ConfigureAwait(false);

    /// <summary>A 334 and its decoded challenge; anything else is the command's refusal.</summary>
    private static string ExpectContinue(string what, SmtpReply reply)
    {
        if (reply.Code != 334)
        {
            throw new SmtpCommandException(what, reply);
        }

        // A 334's text is base64 (RFC 4954 4); the parser may have taken none of it for an enhanced code, as 334 is class 3.
        return SaslMessages.TryDecodeBase64(reply.Lines[0].Trim(), out var bytes)
            ? Encoding.UTF8.GetString(bytes)
            : throw new SmtpProtocolException("The server's SASL challenge is not base64.");
    }
}
