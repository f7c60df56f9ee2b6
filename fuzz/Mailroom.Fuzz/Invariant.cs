namespace Mailroom.Fuzz;

/// <summary>An invariant of a parser broke: the fuzzer's crash.</summary>
#pragma warning disable CA1032 // Thrown only here, with a message.
internal sealed class InvariantException(string message) : Exception(message);
#pragma warning restore CA1032

internal static class Invariant
{
    public static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvariantException(what);
        }
    }
}
