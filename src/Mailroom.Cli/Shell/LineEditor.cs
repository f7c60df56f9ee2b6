using System.Text;

namespace Mailroom.Cli.Shell;

/// <summary>
/// The shell's line editor on a terminal: typing, Backspace, Left and Right, Home and End, and Up
/// and Down through the commands typed before (the history). Keys come from a function and the
/// echo goes to a writer, so it is tested without a terminal; from a pipe the shell reads plain
/// lines instead. After each key the line is redrawn from its start (backspaces, the text, blanks
/// over what got shorter), which needs nothing of the terminal but '\b'.
/// </summary>
internal sealed class LineEditor(Func<ConsoleKeyInfo> readKey, TextWriter echo, IReadOnlyList<string> history)
{
    /// <summary>The line typed, or null at Ctrl-D on an empty line (the end of input).</summary>
    public string? ReadLine()
    {
        var line = new StringBuilder();
        var cursor = 0;
        var shownLength = 0;
        var recalled = history.Count;
        while (true)
        {
            var key = readKey();
            var before = cursor;
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    echo.WriteLine();
                    return line.ToString();
                case ConsoleKey.D when key.Modifiers.HasFlag(ConsoleModifiers.Control):
                    if (line.Length == 0)
                    {
                        echo.WriteLine();
                        return null;
                    }

                    continue;
                case ConsoleKey.Backspace:
                    if (cursor > 0)
                    {
                        line.Remove(--cursor, 1);
                    }

                    break;
                case ConsoleKey.LeftArrow:
                    cursor = Math.Max(0, cursor - 1);
                    break;
                case ConsoleKey.RightArrow:
                    cursor = Math.Min(line.Length, cursor + 1);
                    break;
                case ConsoleKey.Home:
                    cursor = 0;
                    break;
                case ConsoleKey.End:
                    cursor = line.Length;
                    break;
                case ConsoleKey.UpArrow or ConsoleKey.DownArrow:
                    var next = recalled + (key.Key == ConsoleKey.UpArrow ? -1 : 1);
                    if (next < 0 || next > history.Count)
                    {
                        continue;
                    }

                    recalled = next;
                    line.Clear().Append(recalled < history.Count ? history[recalled] : string.Empty);
                    cursor = line.Length;
                    break;
                default:
                    if (char.IsControl(key.KeyChar))
                    {
                        continue;
                    }

                    line.Insert(cursor++, key.KeyChar);
                    break;
            }

            // Back to the start of the line, the line, blanks over what it lost, back to the cursor.
            var blanks = Math.Max(0, shownLength - line.Length);
            echo.Write(new string('\b', before) + line + new string(' ', blanks) + new string('\b', blanks + line.Length - cursor));
            shownLength = line.Length;
        }
    }
}
