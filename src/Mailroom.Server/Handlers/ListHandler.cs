using System.Globalization;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>
/// LIST: the open mailbox, one reply line per message, so a client can show a table without
/// fetching bodies: <c>&lt;number&gt; &lt;id&gt; &lt;arrival, UTC&gt; &lt;octets&gt; &lt;flags&gt; &lt;&lt;sender&gt;&gt; &lt;subject&gt;</c>.
/// </summary>
internal static class ListHandler
{
    public static Task HandleAsync(SmtpSession session) =>
        !MailboxCommands.Allowed(session, needsOpenMailbox: true) ? Task.CompletedTask : MailboxCommands.RunAsync(session, async () =>
        {
            if (await MailboxCommands.OpenViewAsync(session).ConfigureAwait(false) is not { } view)
            {
                return;
            }

            var entries = await session.Services.Store.ListMailboxAsync(view.Mailbox.Id, session.LoggedInAccount!.Id, CancellationToken.None).ConfigureAwait(false);
            var lines = new List<string> { string.Create(CultureInfo.InvariantCulture, $"{entries.Count} message(s)") };
            lines.AddRange(entries.Select((e, i) => string.Create(
                CultureInfo.InvariantCulture,
                $"{i + 1} {e.MessageId} {e.ReceivedUtc.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} {e.Size} {MailboxView.Flags(e)} <{e.Sender}> {e.Subject}")));
            session.Reply(ReplyCatalogue.MailboxListing.WithLines(lines));
        });
}
