using System.CommandLine;
using System.Globalization;
using Mailroom.Core.Audit;
using Mailroom.Core.Storage;

namespace Mailroom.Cli.Admin;

/// <summary>
/// <c>mailroom mailbox add|remove|list|grant|revoke|restore</c>: shared mailboxes, the rights of
/// users on mailboxes that are not their own, and bringing messages back from the trash.
/// </summary>
internal static class MailboxCommands
{
    public static Command Create()
    {
        var mailbox = new Command("mailbox", "Manage shared mailboxes, rights and the trash");
        mailbox.Subcommands.Add(Add());
        mailbox.Subcommands.Add(Remove());
        mailbox.Subcommands.Add(List());
        mailbox.Subcommands.Add(Grant(revoke: false));
        mailbox.Subcommands.Add(Grant(revoke: true));
        mailbox.Subcommands.Add(Restore());
        return mailbox;
    }

    private static Command Add()
    {
        var address = new Argument<string>("address") { Description = "The shared mailbox's address, e.g. support@example.com" };
        var data = CommonOptions.Data();
        var command = new Command("add", "Add a shared mailbox");
        command.Arguments.Add(address);
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            var added = await context.Store.AddSharedMailboxAsync(AddressArgument.Check(context.ParseResult.GetValue(address)), context.CancellationToken).ConfigureAwait(false);
            context.Output.WriteLine($"added shared mailbox {added.Address}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Remove()
    {
        var address = new Argument<string>("address") { Description = "The shared mailbox to remove, with its messages" };
        var data = CommonOptions.Data();
        var command = new Command("remove", "Remove a shared mailbox and its messages (a personal mailbox goes with `user remove`)");
        command.Arguments.Add(address);
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            var name = AddressArgument.Check(context.ParseResult.GetValue(address));
            if (!await context.Store.RemoveSharedMailboxAsync(name, context.CancellationToken).ConfigureAwait(false))
            {
                throw new AdminException(ExitCodes.NoUser, $"no such shared mailbox: {name.ToLowerInvariant()}");
            }

            context.Audit.Record(context.Event(AuditKinds.MailboxDelete) with { Mailbox = name.ToLowerInvariant(), Detail = "the shared mailbox and its messages were removed" });
            context.Output.WriteLine($"removed shared mailbox {name.ToLowerInvariant()}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List()
    {
        var data = CommonOptions.Data();
        var command = new Command("list", "List every mailbox, with the rights granted on it");
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            foreach (var mailbox in await context.Store.ListMailboxesAsync(context.CancellationToken).ConfigureAwait(false))
            {
                var grants = await context.Store.ListGrantsAsync(mailbox.Id, context.CancellationToken).ConfigureAwait(false);
                var rights = string.Join(' ', grants.Select(g => $"{g.User}={MailboxRightsText.Format(g.Rights)}"));
                context.Output.WriteLine(rights.Length == 0 ? mailbox.Address : $"{mailbox.Address}\t{rights}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary><c>grant|revoke MAILBOX USER RIGHTS</c>: adds or takes away rights letters (r, m, d, a).</summary>
    private static Command Grant(bool revoke)
    {
        var mailboxArgument = new Argument<string>("mailbox") { Description = "The mailbox's address" };
        var userArgument = new Argument<string>("user") { Description = "The user's address" };
        var rightsArgument = new Argument<string>("rights") { Description = "Letters: r (read), m (mark flags), d (delete), a (administer)" };
        var data = CommonOptions.Data();
        var command = new Command(revoke ? "revoke" : "grant", revoke ? "Take rights on a mailbox away from a user" : "Give a user rights on a mailbox");
        command.Arguments.Add(mailboxArgument);
        command.Arguments.Add(userArgument);
        command.Arguments.Add(rightsArgument);
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            var letters = context.ParseResult.GetValue(rightsArgument) ?? string.Empty;
            if (!MailboxRightsText.TryParse(letters, out var change))
            {
                throw new AdminException(ExitCodes.Usage, $"'{letters}' is not a set of rights; use the letters r, m, d and a");
            }

            var store = context.Store;
            var mailbox = await FindAsync(store, context.ParseResult.GetValue(mailboxArgument), context.CancellationToken).ConfigureAwait(false);
            var user = AddressArgument.Check(context.ParseResult.GetValue(userArgument));
            var account = await store.FindAccountAsync(user, context.CancellationToken).ConfigureAwait(false)
                ?? throw new AdminException(ExitCodes.NoUser, $"no such user: {user.ToLowerInvariant()}");
            if (mailbox.Address == account.Address)
            {
                throw new AdminException(ExitCodes.DataError, $"{mailbox.Address} is {account.Address}'s own mailbox; its rights cannot change");
            }

            var current = await store.GetRightsAsync(mailbox.Id, account.Id, context.CancellationToken).ConfigureAwait(false);
            var rights = revoke ? current & ~change : current | change;
            await store.SetRightsAsync(mailbox.Id, account.Id, rights, context.CancellationToken).ConfigureAwait(false);
            context.Output.WriteLine($"{account.Address} on {mailbox.Address}: {MailboxRightsText.Format(rights)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Restore()
    {
        var address = new Argument<string>("mailbox") { Description = "The mailbox whose trash comes back" };
        var data = CommonOptions.Data();
        var command = new Command("restore", "Bring back every message of a mailbox from the trash (undo DELE)");
        command.Arguments.Add(address);
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            var mailbox = await FindAsync(context.Store, context.ParseResult.GetValue(address), context.CancellationToken).ConfigureAwait(false);
            var restored = await context.Store.RestoreAsync(mailbox.Id, context.CancellationToken).ConfigureAwait(false);
            context.Audit.Record(context.Event(AuditKinds.MailboxRestore) with
            {
                Mailbox = mailbox.Address,
                Detail = string.Create(CultureInfo.InvariantCulture, $"{restored} message(s) restored from the trash"),
            });
            context.Output.WriteLine($"restored {restored} message(s) to {mailbox.Address}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<MailboxRef> FindAsync(IMailStore store, string? address, CancellationToken cancellationToken) =>
        await store.FindMailboxAsync(AddressArgument.Check(address), cancellationToken).ConfigureAwait(false)
            ?? throw new AdminException(ExitCodes.NoUser, $"no such mailbox: {address!.ToLowerInvariant()}");
}
