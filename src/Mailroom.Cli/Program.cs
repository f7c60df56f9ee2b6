using System.CommandLine;
using Mailroom.Cli;

// The generic host handles SIGTERM and Ctrl-C (see ServerHost): it drains sessions for up to the
// shutdown grace period. System.CommandLine's own handler would end the process after 2 seconds.
return await MailroomCommandLine.Build().Parse(args)
    .InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null })
    .ConfigureAwait(false);
