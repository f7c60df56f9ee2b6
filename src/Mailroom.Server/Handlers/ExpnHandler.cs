using Mailroom.Core.Storage;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>
/// EXPN (RFC 5321 3.5.2, 4.1.1.7): a list's members, one per line of a multi-line 250 (the
/// members as configured; nested lists are named, not expanded). It reveals addresses, so it
/// follows <c>Smtp:VrfyExpn</c>: 502 when the client may not ask.
/// </summary>
internal static class ExpnHandler
{
    public static async Task HandleAsync(SmtpSession session, ArgumentCommand command)
    {
        if (!Disclosure.Allowed(session))
        {
            session.Reply(ReplyCatalogue.ExpnDisabled);
            return;
        }

        if (Disclosure.Address(command.Argument) is not { } address)
        {
            session.ReplyProtocolError(ReplyCatalogue.SyntaxError.Format(CommandTable.Get(SmtpVerb.Expn).Syntax));
            return;
        }

        try
        {
            var list = await session.Services.Store.FindListAsync(address.ToString(), CancellationToken.None).ConfigureAwait(false);
            session.Reply(list is null
                ? ReplyCatalogue.MailboxUnknown.Format(address)
                : ReplyCatalogue.Expanded.WithLines(list.Members.Count == 0 ? ["(no members)"] : list.Members.Select(m => $"<{m}>")));
        }
        catch (StorageException ex)
        {
            session.ReplyStorageFailure(ex);
        }
    }
}
