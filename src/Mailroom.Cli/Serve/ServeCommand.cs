using System.CommandLine;

namespace Mailroom.Cli.Serve;

public static class ServeCommand
{
    public static Command Create()
    {
        var command = new Command("serve", "Run the mail server");
        command.SetAction((_, _) => Task.FromResult(0));
        return command;
    }
}
