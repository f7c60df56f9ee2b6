namespace Mailroom.Fuzz;

/// <summary>Runs saved inputs through a target without AFL: how a finding is reproduced and minimised by hand.</summary>
internal static class Replay
{
    public static int Run(string name, Action<byte[]> target, IEnumerable<string> files)
    {
        GiveInstrumentationSomewhereToWrite();
        var failed = 0;
        foreach (var file in files)
        {
            var input = File.ReadAllBytes(file);
            try
            {
                target(input);
                Console.WriteLine($"{name} {file}: ok");
            }
#pragma warning disable CA1031 // Replay reports whatever the target threw: that is the finding.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failed++;
                Console.WriteLine($"{name} {file}: {ex}");
                Console.WriteLine($"  input ({input.Length} bytes, base64): {Convert.ToBase64String(input)}");
            }
        }

        return failed == 0 ? 0 : 1;
    }

    /// <summary>
    /// Instrumented assemblies (artifacts/fuzz/bin) count edges into SharpFuzz's map, which only
    /// afl's fork server sets up; without one they would write through a null pointer. A map of our
    /// own lets the same build replay inputs. Uninstrumented builds never touch it.
    /// </summary>
    private static unsafe void GiveInstrumentationSomewhereToWrite()
    {
        if (SharpFuzz.Common.Trace.SharedMem == null)
        {
            SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
        }
    }
}
