using Mailroom.Core.Storage;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>
/// VRFY (RFC 5321 3.5.1, 4.1.1.6): confirms a local mailbox or list with <c>250 2.1.5 &lt;address&gt;</c>,
/// or says <c>550 5.1.1</c>. It reveals which addresses exist, so it follows <c>Smtp:VrfyExpn</c>:
/// when the client may not ask, the answer is 252 (neither confirmed nor denied, RFC 5321 3.5.3).
/// </summary>
internal static class VrfyHandler
{
    public static async Task HandleAsync(SmtpSession session, ArgumentCommand command)
    {
        if (!Disclosure.Allowed(session))
        {
            session.Reply(ReplyCatalogue.CannotVerify);
            return;
        }

        if (Disclosure.Address(command.Argument) is not { } address)
        {
            session.ReplyProtocolError(ReplyCatalogue.SyntaxError.Format(CommandTable.Get(SmtpVerb.Vrfy).Syntax));
            return;
        }

        try
        {
            var store = session.Services.Store;
            var exists = await store.FindMailboxAsync(address.ToString(), CancellationToken.None).ConfigureAwait(false) is not null ||
                await store.FindListAsync(address.ToString(), CancellationToken.None).ConfigureAwait(false) is not null;
            session.Reply(exists ? ReplyCatalogue.Verified.Format(address.ToString().ToLowerInvariant()) : ReplyCatalogue.MailboxUnknown.Format(address));
        }
        catch (StorageException ex)
        {
            session.ReplyStorageFailure(ex);
        }
    }
}
