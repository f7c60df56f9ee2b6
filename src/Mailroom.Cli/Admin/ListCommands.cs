using System.CommandLine;
using Mailroom.Core.Storage;

namespace Mailroom.Cli.Admin;

/// <summary>
/// <c>mailroom list add|remove|show</c>, <c>mailroom list member add|remove LIST ADDRESS</c> and
/// <c>mailroom list sender add|remove LIST ADDRESS</c>: mailing lists, their members, and who may post.
/// </summary>
internal static class ListCommands
{
    public static Command Create()
    {
        var list = new Command("list", "Manage mailing lists");
        list.Subcommands.Add(Add());
        list.Subcommands.Add(Remove());
        list.Subcommands.Add(Show());
        list.Subcommands.Add(Addresses("member", "Members: the addresses the list's mail goes to (local mailboxes, or other lists)", (store, l, a, add, ct) => store.SetListMemberAsync(l, a, add, ct)));
        list.Subcommands.Add(Addresses("sender", "Allowed senders, for a list whose policy is 'senders'", (store, l, a, add, ct) => store.SetListSenderAsync(l, a, add, ct)));
        return list;
    }

    private static Command Add()
    {
        var address = new Argument<string>("list") { Description = "The list's address, e.g. staff@example.com" };
        var policy = new Option<PostingPolicy>("--policy") { Description = "Who may post: anyone, members or senders (default: members)", DefaultValueFactory = _ => PostingPolicy.Members };
        var data = CommonOptions.Data();
        var command = new Command("add", "Add a mailing list");
        command.Arguments.Add(address);
        command.Options.Add(policy);
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            var added = await context.Store.AddListAsync(AddressArgument.Check(context.ParseResult.GetValue(address)), context.ParseResult.GetValue(policy), context.CancellationToken).ConfigureAwait(false);
            context.Output.WriteLine($"added list {added.Address} (who may post: {added.Policy.ToString().ToLowerInvariant()})");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Remove()
    {
        var address = new Argument<string>("list") { Description = "The list to remove" };
        var data = CommonOptions.Data();
        var command = new Command("remove", "Remove a mailing list");
        command.Arguments.Add(address);
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            var name = AddressArgument.Check(context.ParseResult.GetValue(address)).ToLowerInvariant();
            if (!await context.Store.RemoveListAsync(name, context.CancellationToken).ConfigureAwait(false))
            {
                throw new AdminException(ExitCodes.NoUser, $"no such list: {name}");
            }

            context.Output.WriteLine($"removed list {name}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show()
    {
        var address = new Argument<string>("list") { Description = "The list to show" };
        var data = CommonOptions.Data();
        var command = new Command("show", "Show a list: who may post, its members and allowed senders");
        command.Arguments.Add(address);
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            var name = AddressArgument.Check(context.ParseResult.GetValue(address)).ToLowerInvariant();
            var list = await context.Store.FindListAsync(name, context.CancellationToken).ConfigureAwait(false)
                ?? throw new AdminException(ExitCodes.NoUser, $"no such list: {name}");
            context.Output.WriteLine($"{list.Address}\tpolicy {list.Policy.ToString().ToLowerInvariant()}");
            foreach (var member in list.Members)
            {
                context.Output.WriteLine($"member\t{member}");
            }

            foreach (var sender in list.Senders)
            {
                context.Output.WriteLine($"sender\t{sender}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private delegate Task<bool> SetAddress(IMailStore store, string list, string address, bool add, CancellationToken cancellationToken);

    /// <summary><c>member|sender add|remove LIST ADDRESS</c>.</summary>
    private static Command Addresses(string name, string description, SetAddress set)
    {
        var group = new Command(name, description);
        foreach (var add in new[] { true, false })
        {
            var list = new Argument<string>("list") { Description = "The list's address" };
            var address = new Argument<string>("address") { Description = "The address to " + (add ? "add" : "remove") };
            var data = CommonOptions.Data();
            var command = new Command(add ? "add" : "remove", (add ? "Add" : "Remove") + " a " + name);
            command.Arguments.Add(list);
            command.Arguments.Add(address);
            command.Options.Add(data);
            AdminAction.Set(command, data, async context =>
            {
                var listName = AddressArgument.Check(context.ParseResult.GetValue(list)).ToLowerInvariant();
                var who = AddressArgument.Check(context.ParseResult.GetValue(address)).ToLowerInvariant();
                if (!await set(context.Store, listName, who, add, context.CancellationToken).ConfigureAwait(false))
                {
                    throw new AdminException(ExitCodes.DataError, add ? $"{who} is already a {name} of {listName}" : $"{who} is not a {name} of {listName}");
                }

                context.Output.WriteLine($"{(add ? "added" : "removed")} {name} {who} {(add ? "to" : "from")} {listName}");
                return ExitCodes.Ok;
            });
            group.Subcommands.Add(command);
        }

        return group;
    }
}
