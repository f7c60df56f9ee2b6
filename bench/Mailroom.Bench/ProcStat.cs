using System.Globalization;

namespace Mailroom.Bench;

/// <summary>CPU time of processes that are not ours to hold a <see cref="System.Diagnostics.Process"/> for, from /proc (proc(5)).</summary>
public static class ProcStat
{
    /// <summary>/proc/PID/stat counts in clock ticks; USER_HZ is 100 on every Linux we run on.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>
    /// User plus system time of <paramref name="pid"/>, plus that of its children it has waited
    /// for (cutime, cstime), plus that of its children still running: a PostgreSQL server's
    /// postmaster, its backends and their predecessors. Null when the process is gone.
    /// </summary>
    public static TimeSpan? TreeCpuTime(int pid)
    {
        if (Read(pid) is not { } root)
        {
            return null;
        }

        var ticks = root.Own + root.WaitedChildren;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var child)
                && Read(child) is { } stat
                && stat.ParentPid == pid)
            {
                ticks += stat.Own;
            }
        }

        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    /// <summary>The fields after "(comm) ": state is [0], ppid [1], utime [11], stime [12], cutime [13], cstime [14].</summary>
    private static (int ParentPid, long Own, long WaitedChildren)? Read(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // ended between the listing and the read
        }

        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int i) => long.Parse(fields[i], CultureInfo.InvariantCulture);
        return ((int)Field(1), Field(11) + Field(12), Field(13) + Field(14));
    }

    /// <summary>A memory figure of <paramref name="pid"/> from /proc/PID/status, in bytes: "VmRSS" (resident now) or "VmHWM" (the peak).</summary>
    public static long Memory(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>
    /// Resets the peak resident size (VmHWM) to the current one by writing 5 to /proc/PID/clear_refs
    /// (proc(5), Linux 4.0 and later; needs the right to write there); whether it could.
    /// </summary>
    public static bool ResetPeak(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
