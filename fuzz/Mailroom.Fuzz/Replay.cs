namespace Mailroom.Fuzz;

/// <summary>Runs saved inputs through a target without AFL: how a finding is reproduced and minimised by hand.</summary>
internal static class Replay
{
    public static int Run(string name, Action<byte[]> target, IEnumerable<string> files)
    {
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
}
