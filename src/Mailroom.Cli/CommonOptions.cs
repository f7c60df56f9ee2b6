using System.CommandLine;

namespace Mailroom.Cli;

public static class CommonOptions
{
    /// <summary><c>--data DIR</c>: the data folder (the SQLite file and message bodies); ./data by default.</summary>
    public static Option<string> Data() => new("--data")
    {
        Description = "The data folder (default: ./data)",
        DefaultValueFactory = _ => "data",
    };
}
