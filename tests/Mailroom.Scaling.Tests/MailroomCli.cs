using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Mailroom.Cli;

namespace Mailroom.Scaling.Tests;

public sealed record CliResult(int ExitCode, string Output, string Error);

/// <summary>The real <c>mailroom</c> command tree: in this process, or as a process of its own when it reads standard input.</summary>
internal static class MailroomCli
{
    public static async Task<CliResult> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await MailroomCommandLine.Build()
            .Parse(args)
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }

    /// <summary><c>mailroom ARGS</c> as a process, with <paramref name="input"/> on its standard input (a password for --password-stdin).</summary>
    public static async Task<CliResult> RunProcessAsync(string input, params string[] args)
    {
        var start = Mailroom.Testing.MailroomProgram.StartInfo(args);
        start.StandardInputEncoding = new UTF8Encoding(false);

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.StandardInput.WriteLineAsync(input);
        process.StandardInput.Close();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return new CliResult(process.ExitCode, await output, await error);
    }
}
