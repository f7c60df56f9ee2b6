using Mailroom.Fuzz;
using SharpFuzz;

// dotnet Mailroom.Fuzz.dll <target>                 the AFL fork server (input on stdin), as fuzz/run.sh starts it
// dotnet Mailroom.Fuzz.dll <target> <file>...       replays files without AFL: prints what each one threw
// dotnet Mailroom.Fuzz.dll list                     the target names
// dotnet Mailroom.Fuzz.dll audit-seeds <folder>     writes real audit logs as seeds for the audit targets
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: Mailroom.Fuzz <target> [file...] | list | audit-seeds <folder>");
    Console.Error.WriteLine("targets: " + string.Join(' ', FuzzTargets.Names));
    return 2;
}

if (args[0] == "list")
{
    Console.WriteLine(string.Join('\n', FuzzTargets.Names));
    return 0;
}

if (args[0] == "audit-seeds" && args.Length == 2)
{
    await AuditSeeds.WriteAsync(args[1]);
    return 0;
}

if (!FuzzTargets.TryGet(args[0], out var target))
{
    Console.Error.WriteLine($"unknown target '{args[0]}'; targets: {string.Join(' ', FuzzTargets.Names)}");
    return 2;
}

if (args.Length > 1)
{
    return Replay.Run(args[0], target, args[1..]);
}

// Out of process: a hang (afl-fuzz -t) or a stack overflow kills only the child that runs the
// target, and SharpFuzz starts another, so the campaign goes on and afl records the input.
Fuzzer.OutOfProcess.Run(stream =>
{
    using var memory = new MemoryStream();
    stream.CopyTo(memory);
    target(memory.ToArray());
});
return 0;
