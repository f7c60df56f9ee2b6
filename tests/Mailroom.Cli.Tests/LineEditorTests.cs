using Mailroom.Cli.Shell;

namespace Mailroom.Cli.Tests;

/// <summary>The shell's line editor, fed keys as a terminal would give them.</summary>
public sealed class LineEditorTests
{
    private static ConsoleKeyInfo Char(char c) => new(c, ConsoleKey.A, shift: false, alt: false, control: false);

    private static ConsoleKeyInfo Key(ConsoleKey key, bool control = false) => new('\0', key, shift: false, alt: false, control);

    private static (string? Line, string Echo) Run(IReadOnlyList<string> history, params ConsoleKeyInfo[] keys)
    {
        var queue = new Queue<ConsoleKeyInfo>(keys);
        using var echo = new StringWriter();
        var line = new LineEditor(queue.Dequeue, echo, history).ReadLine();
        return (line, echo.ToString());
    }

    private static ConsoleKeyInfo[] Type(string text) => [.. text.Select(Char)];

    [Fact]
    public void Typing_and_enter_give_the_line()
    {
        Assert.Equal("list", Run([], [.. Type("list"), Key(ConsoleKey.Enter)]).Line);
    }

    [Fact]
    public void Up_and_down_walk_the_history_and_down_past_the_end_gives_an_empty_line()
    {
        string[] history = ["open support@example.com", "list"];
        Assert.Equal("list", Run(history, Key(ConsoleKey.UpArrow), Key(ConsoleKey.Enter)).Line);
        Assert.Equal("open support@example.com", Run(history, Key(ConsoleKey.UpArrow), Key(ConsoleKey.UpArrow), Key(ConsoleKey.UpArrow), Key(ConsoleKey.Enter)).Line);
        Assert.Equal("list", Run(history, Key(ConsoleKey.UpArrow), Key(ConsoleKey.UpArrow), Key(ConsoleKey.DownArrow), Key(ConsoleKey.Enter)).Line);
        Assert.Equal(string.Empty, Run(history, Key(ConsoleKey.UpArrow), Key(ConsoleKey.DownArrow), Key(ConsoleKey.Enter)).Line);
    }

    [Fact]
    public void Editing_in_the_middle_with_arrows_home_end_and_backspace()
    {
        // "shw 1" -> Home, Right x2, type "o" -> "show 1"; End, Backspace, "2" -> "show 2".
        var (line, _) = Run([], [.. Type("shw 1"), Key(ConsoleKey.Home), Key(ConsoleKey.RightArrow), Key(ConsoleKey.RightArrow), Char('o'), Key(ConsoleKey.End), Key(ConsoleKey.Backspace), Char('2'), Key(ConsoleKey.Enter)]);
        Assert.Equal("show 2", line);
        Assert.Equal("sho", Run([], [.. Type("show"), Key(ConsoleKey.LeftArrow), Key(ConsoleKey.Delete), Key(ConsoleKey.RightArrow), Key(ConsoleKey.Backspace), Key(ConsoleKey.Enter)]).Line);
    }

    [Fact]
    public void The_echo_ends_showing_the_line_and_blanks_what_a_shorter_recall_left()
    {
        // What a terminal would show, replaying the echo: '\b' moves left, anything else overwrites.
        var (_, echo) = Run(["a"], [.. Type("longer"), Key(ConsoleKey.UpArrow), Key(ConsoleKey.Enter)]);
        var screen = new char[32];
        Array.Fill(screen, ' ');
        var at = 0;
        foreach (var c in echo.TrimEnd('\r', '\n'))
        {
            if (c == '\b')
            {
                at--;
            }
            else
            {
                screen[at++] = c;
            }
        }

        Assert.Equal("a", new string(screen).TrimEnd());
    }

    [Fact]
    public void Control_d_on_an_empty_line_is_the_end_of_input_and_control_keys_are_not_inserted()
    {
        Assert.Null(Run([], Key(ConsoleKey.D, control: true)).Line);
        Assert.Equal("ab", Run([], Char('a'), Key(ConsoleKey.D, control: true), new ConsoleKeyInfo('\u001b', ConsoleKey.Escape, false, false, false), Char('b'), Key(ConsoleKey.Enter)).Line);
    }
}
