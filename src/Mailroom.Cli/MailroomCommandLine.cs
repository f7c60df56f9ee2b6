using System.CommandLine;
using Mailroom.Cli.Admin;
using Mailroom.Cli.Audit;
using Mailroom.Cli.Send;
using Mailroom.Cli.Serve;

namespace Mailroom.Cli;

/// <summary>The <c>mailroom</c> command tree: the server, and the admin commands that read the store directly.</summary>
public static class MailroomCommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Mailroom: a mail server and mail client.");
        root.Subcommands.Add(ServeCommand.Create());
        AdminCommands.AddTo(root);
        root.Subcommands.Add(AuditCommands.Create());
        root.Subcommands.Add(SendCommand.Create());
        root.Subcommands.Add(SendmailCommand.Create());
        root.Subcommands.Add(Shell.ShellCommand.Create());
        return root;
    }
}
