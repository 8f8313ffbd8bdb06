using Kiln.Runtime.Cuda;

namespace Kiln.Runtime.Cuda.Tests;

/// <summary>One context and one module holding every instantiation the GPU tests use; created on first use.</summary>
internal sealed class GpuHarness
{
    public const uint NaNBits = 0x7FC00000;

    private static readonly Lazy<GpuHarness> s_instance = new(() => new GpuHarness());

    public static GpuHarness Instance => s_instance.Value;

    public static readonly Reference.Conv OddValid = new(9, 11, 3, 4, 5, 4, 3, 2, 0, 0);
    public static readonly Reference.Conv OddSame = new(9, 11, 3, 5, 6, 4, 3, 2, 1, 1);
    public static readonly Reference.Conv MnistConv2 = new(14, 14, 16, 14, 14, 32, 5, 1, 2, 2);

    public static readonly string[] TestKernels =
    [
        .. Enumerable.Range(0, 4).SelectMany(a => new[] { $"kiln::dense_forward<37,19,{a}>", $"kiln::activation_backward<19,{a}>", $"kiln::activation_forward<19,{a}>" }),
        "kiln::dense_backward_data<37,19>",
        "kiln::dense_backward_weights<37,19>",
        "kiln::dropout_forward<37>",
        "kiln::dropout_backward<37>",
        "kiln::softmax_xent_sparse<37>",
        "kiln::mse<37>",
    ];

    private GpuHarness()
    {
        Context = new CudaContext(0);
        var names = Networks.All.Concat(TestKernels).Distinct().ToArray();
        Program = ModuleCache.Shared.GetOrCompile(KernelSources.All, "kiln_tests.cu", names, Context.Device);
        Module = Context.LoadModule(Program);
    }

    public CudaContext Context { get; }

    public CompiledProgram Program { get; }

    public CudaModule Module { get; }

    public DeviceBuffer<T> Upload<T>(T[] values) where T : unmanaged
    {
        var b = Context.Allocate<T>(values.Length);
        b.Upload(values);
        return b;
    }

    /// <summary>A buffer whose every word is a NaN, so an element the kernel forgets to write fails the comparison.</summary>
    public DeviceBuffer<T> Poisoned<T>(long count) where T : unmanaged
    {
        var b = Context.Allocate<T>(count);
        b.Fill32(NaNBits);
        return b;
    }

    public void Run(string expression, LaunchShape shape, params object?[] args)
    {
        using var a = new KernelArguments(args.Length);
        foreach (var arg in args)
        {
            switch (arg)
            {
                case null: a.AddNull(); break;
                case DeviceBuffer<float> f: a.Add(f); break;
                case DeviceBuffer<int> i: a.Add(i); break;
                case DeviceBuffer<double> d: a.Add(d); break;
                case int i: a.Add(i); break;
                case uint u: a.Add(u); break;
                case float f: a.Add(f); break;
                default: throw new ArgumentException($"unsupported kernel argument {arg.GetType()}");
            }
        }
        Module.Launch(Module.GetFunctionByExpression(expression), shape, null, a);
        Context.Synchronize();
    }

    public static float[] Random(int count, int seed, float scale = 1f)
    {
        var r = new Random(seed);
        var a = new float[count];
        for (int i = 0; i < a.Length; i++)
        {
            float v;
            do
            {
                v = (float)(r.NextDouble() * 2 - 1) * scale;
            }
            while (v == 0);
            a[i] = v;
        }
        return a;
    }

    /// <summary>llm.c's check: |gpu − ref| ≤ atol + rtol·|ref|; fails on the first mismatches with index and values.</summary>
    public static void Validate(string what, float[] actual, double[] expected, double atol = 1e-4, double rtol = 1e-4)
    {
        Assert.Equal(expected.Length, actual.Length);
        var bad = new List<string>();
        for (int i = 0; i < actual.Length && bad.Count < 5; i++)
        {
            double d = Math.Abs(actual[i] - expected[i]);
            if (!(d <= atol + rtol * Math.Abs(expected[i])))
            {
                bad.Add($"[{i}] gpu {actual[i]:R} vs reference {expected[i]:R}");
            }
        }
        if (bad.Count > 0)
        {
            Assert.Fail($"{what}: {string.Join("; ", bad)}");
        }
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
