namespace Kiln.Runtime.Cpu.Tests;

/// <summary>llm.c-style validation: |got − ref| ≤ atol + rtol·|ref| for every element; reports the first mismatches.</summary>
internal static class Approx
{
    /// <summary>Single kernels of short reductions: 1e-5 + 1e-4·|ref|.</summary>
    public const double Atol = 1e-5, Rtol = 1e-4;

    /// <summary>Long float reductions (hundreds to thousands of terms, e.g. weight gradients over a batch): 1e-4 + 1e-3·|ref|.</summary>
    public const double LongAtol = 1e-4, LongRtol = 1e-3;

    /// <summary>Kernel backward vs central differences of the double reference (h = 1e-4): 1e-4 + 1e-3·|ref|.</summary>
    public const double FdAtol = 1e-4, FdRtol = 1e-3;

    public static void Equal(double[] expected, ReadOnlySpan<float> actual, string what, double atol = Atol, double rtol = Rtol)
    {
        Assert.Equal(expected.Length, actual.Length);
        var failures = new List<string>();
        var count = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var e = expected[i];
            var a = (double)actual[i];
            if (!(Math.Abs(a - e) <= atol + rtol * Math.Abs(e)))
            {
                count++;
                if (failures.Count < 5)
                {
                    failures.Add($"[{i}] got {a:R}, expected {e:R} (diff {Math.Abs(a - e):G3})");
                }
            }
        }
        if (count > 0)
        {
            Assert.Fail($"{what}: {count} of {expected.Length} elements outside {atol:G2} + {rtol:G2}·|ref|: {string.Join("; ", failures)}");
        }
    }

    public static void Equal(double expected, double actual, string what, double atol = Atol, double rtol = Rtol)
    {
        if (!(Math.Abs(actual - expected) <= atol + rtol * Math.Abs(expected)))
        {
            Assert.Fail($"{what}: got {actual:R}, expected {expected:R}");
        }
    }
}
