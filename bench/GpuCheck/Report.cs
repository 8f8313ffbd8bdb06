using System.Globalization;

namespace GpuCheck;

/// <summary>Every check's outcome, printed as it happens and summarised at the end.</summary>
internal sealed class Report
{
    private readonly Dictionary<string, KernelSummary> _kernels = new(StringComparer.Ordinal);
    private readonly List<string> _failures = [];
    private readonly List<(string Measurement, string Gpu, string Cpu, string Peer)> _timings = [];

    public bool Failed => _failures.Count > 0;

    public IReadOnlyCollection<string> CheckedKernels => _kernels.Keys;

    /// <summary>Records one output of one launch of <paramref name="kernel"/> (the template name, e.g. dense_forward).</summary>
    public void Kernel(string kernel, Comparison comparison)
    {
        Console.WriteLine("  " + comparison);
        ref var summary = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_kernels, kernel, out _);
        summary = summary.Add(comparison);
        if (!comparison.Passed)
        {
            _failures.Add($"{kernel}: {comparison.Name}");
        }
    }

    /// <summary>Records a comparison that belongs to no kernel (training parity).</summary>
    public void Result(Comparison comparison)
    {
        Console.WriteLine("  " + comparison);
        if (!comparison.Passed)
        {
            _failures.Add(comparison.Name);
        }
    }

    /// <summary>Records a pass/fail check with what was measured.</summary>
    public void Expect(string what, bool passed, string detail)
    {
        Console.WriteLine($"  {(passed ? "ok  " : "FAIL")} {what}: {detail}");
        if (!passed)
        {
            _failures.Add($"{what}: {detail}");
        }
    }

    /// <summary>A section that threw: recorded as a failure, and the next section still runs.</summary>
    public void Crashed(string section, Exception e)
    {
        Console.WriteLine($"  FAIL {section} threw {e}");
        _failures.Add($"{section}: {e.GetType().Name}: {e.Message}");
    }

    public void Timing(string measurement, string gpu, string cpu, string peer) => _timings.Add((measurement, gpu, cpu, peer));

    public void PrintSummary()
    {
        Console.WriteLine();
        Console.WriteLine("## Kernels (GPU vs Kiln.Runtime.Cpu)");
        Console.WriteLine();
        Console.WriteLine("| kernel | outputs checked | max abs error | worst error / tolerance | result |");
        Console.WriteLine("| --- | ---: | ---: | ---: | --- |");
        foreach (var (name, s) in _kernels.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {s.Outputs} | {s.MaxError:G3} | {s.WorstRatio:0.000} | {(s.Failed == 0 ? "pass" : $"FAIL ({s.Failed})")} |"));
        }
        if (_timings.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("## Timings");
            Console.WriteLine();
            Console.WriteLine("| measurement | Kiln, GPU | Kiln, CPU | PyTorch, same GPU |");
            Console.WriteLine("| --- | ---: | ---: | ---: |");
            foreach (var (measurement, gpu, cpu, peer) in _timings)
            {
                Console.WriteLine($"| {measurement} | {gpu} | {cpu} | {peer} |");
            }
        }
        Console.WriteLine();
        if (_failures.Count == 0)
        {
            Console.WriteLine("RESULT: PASS");
            return;
        }
        Console.WriteLine($"RESULT: FAIL ({_failures.Count})");
        foreach (var f in _failures)
        {
            Console.WriteLine("  - " + f);
        }
    }

    private readonly record struct KernelSummary(int Outputs, double MaxError, double WorstRatio, int Failed)
    {
        // Math.Max propagates NaN, so an unwritten (NaN) output shows in the summary.
        public KernelSummary Add(Comparison c) => new(Outputs + 1, Math.Max(MaxError, c.MaxError), Math.Max(WorstRatio, c.WorstRatio), Failed + (c.Passed ? 0 : 1));
    }
}
