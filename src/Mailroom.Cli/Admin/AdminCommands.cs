using System.CommandLine;

namespace Mailroom.Cli.Admin;

/// <summary>domain, user, mail, mailbox, list and db: admin commands that work on the server's store.</summary>
public static class AdminCommands
{
    public static void AddTo(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        root.Subcommands.Add(DomainCommands.Create());
        root.Subcommands.Add(UserCommands.Create());
        root.Subcommands.Add(MailCommands.Create());
        root.Subcommands.Add(MailboxCommands.Create());
        root.Subcommands.Add(ListCommands.Create());
        root.Subcommands.Add(DbCommands.Create());
    }
}
