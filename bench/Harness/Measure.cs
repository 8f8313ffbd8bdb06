using System.Diagnostics;

/// <summary>The harness's clocks and the machine's calibration. Static helpers; call from one thread at a time.</summary>
internal static class Measure
{
    /// <summary>The best of 20 products of two 512×512 matrices, in GFLOP/s: what the machine delivers at this moment.</summary>
    public static double GemmRate()
    {
        const int n = 512;
        var (a, b, c) = (new float[n * n], new float[n * n], new float[n * n]);
        a.AsSpan().Fill(0.5f);
        b.AsSpan().Fill(0.25f);
        var best = double.MaxValue;
        for (var i = 0; i < 20; i++)
        {
            var clock = Stopwatch.StartNew();
            Kiln.Runtime.Cpu.Gemm.Multiply(n, n, n, a, n, b, n, c, n);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }

    /// <summary>
    /// Runs a step for a second before timing: buffers, then the JIT's tiers (the optimised code arrives after a few
    /// hundred calls and a delay), so that the timings are of the steady state.
    /// </summary>
    public static void Warm(Action step)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < 1)
        {
            step();
        }
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>A field of /proc/self/status in MB (VmRSS: resident now; VmHWM: the process's peak), NaN elsewhere.</summary>
    public static double StatusMb(string field)
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path))
        {
            return double.NaN;
        }
        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return line is null ? double.NaN : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }
}
