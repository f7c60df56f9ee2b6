namespace Mailroom.Cli.Admin;

/// <summary>Exit codes from sysexits.h, so scripts can tell a typo from a broken disk.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>EX_USAGE: the command was used incorrectly (a malformed argument, no terminal to prompt on).</summary>
    public const int Usage = 64;

    /// <summary>EX_DATAERR: the input was wrong (a duplicate, a domain still in use, an unknown message id, a bad password).</summary>
    public const int DataError = 65;

    /// <summary>EX_NOUSER: no such user or domain.</summary>
    public const int NoUser = 67;

    /// <summary>EX_SOFTWARE: an internal error (a bug); recorded in the audit log as such.</summary>
    public const int Software = 70;

    /// <summary>128 + SIGINT, as shells report a command stopped with Ctrl-C.</summary>
    public const int Interrupted = 130;

    /// <summary>EX_IOERR: the store failed.</summary>
    public const int IoError = 74;

    /// <summary>EX_CONFIG: the configuration is wrong.</summary>
    public const int Config = 78;
}
