using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Session;

namespace Mailroom.Server.Handlers;

/// <summary>HELP (RFC 5321 4.1.1.8): generated from the command table, so it cannot drift from it.</summary>
internal static class HelpHandler
{
    public static Task HandleAsync(SmtpSession session, ArgumentCommand command)
    {
        session.Reply(Build(command.Argument));
        return Task.CompletedTask;
    }

    public static SmtpReply Build(string topic)
    {
        if (topic.Length == 0)
        {
            var lines = new List<string> { "Commands:" };
            lines.AddRange(CommandTable.All.Select(c => $"  {c.Syntax}"));
            lines.Add("HELP <command> describes one.");
            return ReplyCatalogue.Help.WithLines(lines);
        }

        return CommandTable.TryGet(topic, out var info)
            ? ReplyCatalogue.Help.WithLines([info.Syntax, info.Description])
            : ReplyCatalogue.HelpTopicUnknown.Format(topic);
    }
}
