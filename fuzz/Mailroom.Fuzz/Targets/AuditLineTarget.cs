using System.Reflection;
using Mailroom.Core.Audit;

namespace Mailroom.Fuzz.Targets;

/// <summary>
/// AuditEntryParser on each line of the input, and TryParseEvent on the same bytes as an entry's
/// decrypted data: a damaged line is false with a sentence for the admin, never an exception,
/// since the reader and the verifier must report a damaged line, not stop at it.
/// </summary>
internal static class AuditLineTarget
{
    // AuditEntryParser is internal to Mailroom.Core; reflection keeps InternalsVisibleTo to the tests.
    private static readonly Type Parser = typeof(AuditReader).Assembly.GetType("Mailroom.Core.Audit.AuditEntryParser", throwOnError: true)!;
    private static readonly MethodInfo TryParse = Parser.GetMethod("TryParse", BindingFlags.Public | BindingFlags.Static)!;
    private static readonly MethodInfo TryParseEvent = Parser.GetMethod("TryParseEvent", BindingFlags.Public | BindingFlags.Static)!;
    private static readonly DateTimeOffset Timestamp = new(2026, 11, 28, 18, 30, 0, TimeSpan.Zero);

    public static void Run(byte[] input)
    {
        var data = new FuzzInput(input).DataArray;
        var start = 0;
        while (start <= data.Length)
        {
            var newline = Array.IndexOf(data, (byte)'\n', start);
            var end = newline < 0 ? data.Length : newline;
            Check(data.AsMemory(start, end - start));
            start = end + 1;
        }
    }

    private static void Check(ReadOnlyMemory<byte> line)
    {
        object?[] args = [line, null, null];
        var ok = (bool)TryParse.Invoke(null, BindingFlags.DoNotWrapExceptions, null, args, null)!;
        Invariant.Check(ok ? args[1] is not null && (string)args[2]! == "" : args[1] is null && ((string)args[2]!).Length > 0, "TryParse: an entry and a problem, or neither");

        object?[] eventArgs = [line, Timestamp, null, null];
        ok = (bool)TryParseEvent.Invoke(null, BindingFlags.DoNotWrapExceptions, null, eventArgs, null)!;
        Invariant.Check(ok ? eventArgs[2] is AuditEvent { Timestamp: var t } && t == Timestamp : eventArgs[2] is null && ((string)eventArgs[3]!).Length > 0, "TryParseEvent: an event and a problem, or neither");
    }
}
