using System.Text;

namespace Mailroom.Cli.Admin;

/// <summary>
/// Reads a new password without it ever being an argument (arguments show up in <c>ps</c> and
/// in shell history): from the terminal without echo, asked twice, or one line of standard
/// input with <c>--password-stdin</c> for scripts.
/// </summary>
internal static class PasswordReader
{
    public static async Task<string> ReadAsync(bool fromStandardInput, TextWriter prompt, CancellationToken cancellationToken)
    {
        var password = fromStandardInput
            ? await ReadStandardInputAsync(cancellationToken).ConfigureAwait(false)
            : ReadFromTerminal(prompt);
        if (password.Length == 0)
        {
            throw new AdminException(ExitCodes.DataError, "the password is empty");
        }

        return password;
    }

    private static async Task<string> ReadStandardInputAsync(CancellationToken cancellationToken)
    {
        var line = await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        return line ?? throw new AdminException(ExitCodes.DataError, "no password on standard input");
    }

    private static string ReadFromTerminal(TextWriter prompt)
    {
        if (Console.IsInputRedirected)
        {
            throw new AdminException(ExitCodes.Usage, "standard input is not a terminal; pass the password with --password-stdin");
        }

        var first = ReadHidden(prompt, "New password: ");
        var second = ReadHidden(prompt, "Repeat it: ");
        return first == second
            ? first
            : throw new AdminException(ExitCodes.DataError, "the passwords do not match");
    }

    /// <summary>Reads a line from the terminal without echoing it.</summary>
    public static string ReadHidden(TextWriter prompt, string label)
    {
        prompt.Write(label);
        prompt.Flush();
        var text = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    prompt.WriteLine();
                    return text.ToString();
                case ConsoleKey.Backspace:
                    if (text.Length > 0)
                    {
                        text.Length--;
                    }

                    break;
                default:
                    if (!char.IsControl(key.KeyChar))
                    {
                        text.Append(key.KeyChar);
                    }

                    break;
            }
        }
    }
}
