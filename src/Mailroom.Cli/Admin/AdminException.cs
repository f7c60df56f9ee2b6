namespace Mailroom.Cli.Admin;

/// <summary>An admin command cannot do what was asked: one line for standard error, and the exit code.</summary>
public sealed class AdminException : Exception
{
    public AdminException()
    {
    }

    public AdminException(string message)
        : this(ExitCodes.DataError, message)
    {
    }

    public AdminException(string message, Exception innerException)
        : base(message, innerException)
    {
        ExitCode = ExitCodes.DataError;
    }

    public AdminException(int exitCode, string message)
        : base(message)
    {
        ExitCode = exitCode;
    }

    public int ExitCode { get; } = ExitCodes.DataError;
}
