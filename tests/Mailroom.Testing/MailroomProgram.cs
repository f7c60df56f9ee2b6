using System.Diagnostics;

namespace Mailroom.Testing;

/// <summary>The real <c>mailroom</c> program of the test's build, as a process of its own.</summary>
public static class MailroomProgram
{
    /// <summary><c>dotnet mailroom.dll ARGS</c> with standard input, output and error redirected; the caller adds its environment.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "mailroom.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }
}
