using System.CommandLine;

namespace Mailroom.Cli.Admin;

/// <summary><c>mailroom domain add|remove|list</c>: the domains this server accepts mail for.</summary>
internal static class DomainCommands
{
    public static Command Create()
    {
        var domain = new Command("domain", "Manage the local domains");
        domain.Subcommands.Add(Add());
        domain.Subcommands.Add(Remove());
        domain.Subcommands.Add(List());
        return domain;
    }

    private static Command Add()
    {
        var name = new Argument<string>("name") { Description = "The domain, e.g. example.com" };
        var data = CommonOptions.Data();
        var command = new Command("add", "Accept mail for a domain");
        command.Arguments.Add(name);
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            var domain = CheckDomain(context.ParseResult.GetValue(name));
            if (!await context.Store.AddDomainAsync(domain, context.CancellationToken).ConfigureAwait(false))
            {
                throw new AdminException($"domain {domain.ToLowerInvariant()} already exists");
            }

            context.Output.WriteLine($"added domain {domain.ToLowerInvariant()}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Remove()
    {
        var name = new Argument<string>("name") { Description = "The domain to remove" };
        var data = CommonOptions.Data();
        var command = new Command("remove", "Stop accepting mail for a domain (it must have no accounts)");
        command.Arguments.Add(name);
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            var domain = CheckDomain(context.ParseResult.GetValue(name));
            if (!await context.Store.RemoveDomainAsync(domain, context.CancellationToken).ConfigureAwait(false))
            {
                throw new AdminException(ExitCodes.NoUser, $"domain {domain.ToLowerInvariant()} is not a local domain");
            }

            context.Output.WriteLine($"removed domain {domain.ToLowerInvariant()}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List()
    {
        var data = CommonOptions.Data();
        var command = new Command("list", "List the local domains");
        command.Options.Add(data);
        AdminAction.Set(command, data, async context =>
        {
            foreach (var domain in await context.Store.ListDomainsAsync(context.CancellationToken).ConfigureAwait(false))
            {
                context.Output.WriteLine(domain);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static string CheckDomain(string? domain)
    {
        if (string.IsNullOrWhiteSpace(domain) || domain.Contains('@', StringComparison.Ordinal) || domain.Any(char.IsWhiteSpace))
        {
            throw new AdminException(ExitCodes.Usage, $"'{domain}' is not a domain name");
        }

        return domain;
    }
}
