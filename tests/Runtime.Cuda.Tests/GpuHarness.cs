using Kiln.Runtime.Cpu;

namespace Kiln.Runtime.Cuda.Tests;

/// <summary>The GPU tests' shared module (every instantiation they use) and their checks, built on Kiln.Oracles' helpers.</summary>
internal static class GpuHarness
{
    public static readonly ConvGeometry OddValid = new(9, 11, 3, 4, 5, 4, 3, 2, 0, 0);
    public static readonly ConvGeometry OddSame = new(9, 11, 3, 5, 6, 4, 3, 2, 1, 1);
    public static readonly ConvGeometry MnistConv2 = new(14, 14, 16, 14, 14, 32, 5, 1, 2, 2);

    /// <summary>A convolution's template arguments, as the kernels take them.</summary>
    public static string Template(ConvGeometry c) => $"{c.InH},{c.InW},{c.InC},{c.OutH},{c.OutW},{c.OutC},{c.Kernel},{c.Stride},{c.PadTop},{c.PadLeft}";

    public static double[] D(float[] v) => v.Select(e => (double)e).ToArray();

    public static readonly string[] TestKernels =
    [
        .. Enumerable.Range(0, 4).SelectMany(a => new[] { $"kiln::dense_forward<37,19,{a}>", $"kiln::activation_backward<19,{a}>", $"kiln::activation_forward<19,{a}>" }),
        "kiln::dense_backward_data<37,19>",
        "kiln::dense_backward_weights<37,19>",
        "kiln::dropout_forward<37>",
        "kiln::dropout_backward<37>",
        "kiln::softmax_xent_sparse<37>",
        "kiln::mse<37>",
        "kiln::mae<37>",
        "kiln::sigmoid_bce<1>",
        "kiln::sigmoid_bce<37>",
    ];

    private static readonly Lazy<KernelRunner> s_instance = new(() => new KernelRunner(0, "kiln_tests.cu", Networks.All.Concat(TestKernels)));

    public static KernelRunner Instance => s_instance.Value;

    public static float[] Random(int count, int seed, float scale = 1f) => RandomData.Uniform(count, seed, scale);

    /// <summary>llm.c's check: |gpu − ref| ≤ atol + rtol·|ref|; fails with the first mismatches' indices and values.</summary>
    public static void Validate(string what, float[] actual, double[] expected, double atol = 1e-4, double rtol = 1e-4)
    {
        var comparison = Comparison.Of(what, actual, expected, new Tolerance(atol, rtol));
        Assert.True(comparison.Passed, comparison.ToString());
    }

    public static void Exact<T>(string what, T[] actual, T[] expected) where T : IEquatable<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            if (!actual[i].Equals(expected[i]))
            {
                Assert.Fail($"{what}: first difference at [{i}]: gpu {actual[i]} vs reference {expected[i]}");
            }
        }
    }
}
