using System.CommandLine;
using System.Globalization;

using Mailroom.Core.Accounts;
using Mailroom.Core.Audit;

namespace Mailroom.Cli.Admin;

/// <summary><c>mailroom user add|passwd|remove|list</c>: accounts and their personal mailboxes.</summary>
internal static class UserCommands
{
    public static Command Create()
    {
        var user = new Command("user", "Manage accounts");
        user.Subcommands.Add(Add());
        user.Subcommands.Add(Passwd());
        user.Subcommands.Add(Remove());
        user.Subcommands.Add(List());
        return user;
    }

    private static Command Add()
    {
        var address = new Argument<string>("address") { Description = "The account's address, e.g. alice@example.com" };
        var stdin = PasswordStdin();
        var data = CommonOptions.Data();
        var command = new Command("add", "Add an account and its mailbox; asks for the password");
        command.Arguments.Add(address);
        command.Options.Add(stdin);
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            var account = AddressArgument.Check(context.ParseResult.GetValue(address));
            var store = context.Store;
            var domain = AddressArgument.DomainOf(account).ToLowerInvariant();

            // Checked before asking for a password, so a typo does not cost typing it twice;
            // AddAccountAsync checks again inside its transaction.
            if (!await store.IsLocalDomainAsync(domain, context.CancellationToken).ConfigureAwait(false))
            {
                throw new AdminException(ExitCodes.NoUser, $"domain {domain} is not a local domain; add it with `mailroom domain add {domain}`");
            }

            if (await store.FindAccountAsync(account, context.CancellationToken).ConfigureAwait(false) is not null)
            {
                throw new AdminException($"account {account.ToLowerInvariant()} already exists");
            }

            var password = await PasswordReader.ReadAsync(context.ParseResult.GetValue(stdin), context.Error, context.CancellationToken).ConfigureAwait(false);
            var added = await store.AddAccountAsync(account, new PasswordHasher().Hash(password), context.CancellationToken).ConfigureAwait(false);
            context.Output.WriteLine($"added user {added.Address}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Passwd()
    {
        var address = new Argument<string>("address") { Description = "The account's address" };
        var stdin = PasswordStdin();
        var data = CommonOptions.Data();
        var command = new Command("passwd", "Set an account's password; asks for it");
        command.Arguments.Add(address);
        command.Options.Add(stdin);
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            var account = AddressArgument.Check(context.ParseResult.GetValue(address));
            if (await context.Store.FindAccountAsync(account, context.CancellationToken).ConfigureAwait(false) is null)
            {
                throw NoSuchUser(account);
            }

            var password = await PasswordReader.ReadAsync(context.ParseResult.GetValue(stdin), context.Error, context.CancellationToken).ConfigureAwait(false);
            if (!await context.Store.SetPasswordHashAsync(account, new PasswordHasher().Hash(password), context.CancellationToken).ConfigureAwait(false))
            {
                throw NoSuchUser(account);
            }

            context.Output.WriteLine($"changed the password of {account.ToLowerInvariant()}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Remove()
    {
        var address = new Argument<string>("address") { Description = "The account's address" };
        var data = CommonOptions.Data();
        var command = new Command("remove", "Remove an account, its mailbox and the mail in it");
        command.Arguments.Add(address);
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            var account = AddressArgument.Check(context.ParseResult.GetValue(address));
            if (!await context.Store.RemoveAccountAsync(account, context.CancellationToken).ConfigureAwait(false))
            {
                throw NoSuchUser(account);
            }

            context.Audit.Record(context.Event(AuditKinds.MailboxDelete) with { Mailbox = account.ToLowerInvariant(), Detail = "the account, its mailbox and its messages were removed" });
            context.Output.WriteLine($"removed user {account.ToLowerInvariant()}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List()
    {
        var data = CommonOptions.Data();
        var command = new Command("list", "List the accounts");
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            foreach (var account in await context.Store.ListAccountsAsync(context.CancellationToken).ConfigureAwait(false))
            {
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{account.Address}\t{account.CreatedUtc.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}"));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Option<bool> PasswordStdin() => new("--password-stdin")
    {
        Description = "Read the password as one line from standard input instead of prompting",
    };

    private static AdminException NoSuchUser(string account) =>
        new(ExitCodes.NoUser, $"no such user: {account.ToLowerInvariant()}");
}
