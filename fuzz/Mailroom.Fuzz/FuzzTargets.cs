using System.Diagnostics.CodeAnalysis;
using Mailroom.Fuzz.Targets;

namespace Mailroom.Fuzz;

/// <summary>
/// One target per parser entry point. A target returns when the parser behaved, whatever the
/// input: refusing it with the parser's typed error is behaving. It throws only when an invariant
/// breaks (<see cref="InvariantException"/>) or the parser threw something it never should, and
/// that is what afl records as a crash.
/// </summary>
internal static class FuzzTargets
{
    private static readonly Dictionary<string, Action<byte[]>> Targets = new(StringComparer.Ordinal)
    {
        ["command"] = CommandTarget.Run,
        ["path"] = PathTarget.Run,
        ["params"] = ParametersTarget.Run,
        ["dot"] = DotTarget.Run,
        ["sasl"] = SaslTarget.Run,
        ["reply"] = ReplyTarget.Run,
        ["reply-reader"] = ReplyReaderTarget.Run,
        ["audit-line"] = AuditLineTarget.Run,
        ["audit-file"] = AuditFileTarget.Run,
    };

    public static IEnumerable<string> Names => Targets.Keys;

    public static bool TryGet(string name, [NotNullWhen(true)] out Action<byte[]>? target) => Targets.TryGetValue(name, out target);
}
