using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Samples;
using Samples.Odd;

namespace Kiln.Runtime.Cuda.Tests;

/// <summary>
/// The name expressions the generator really emits (read from the generated CudaExecutor of the sample networks) and
/// the executor's shared kernels compile with NVRTC, and every generated launch passes what the kernel takes.
/// </summary>
public sealed partial class GeneratedKernelTests
{
    private static readonly Dictionary<string, Type> Networks = new()
    {
        ["Iris"] = typeof(IrisNet),
        ["MnistCnn"] = typeof(MnistCnn),
        ["StridedValid"] = typeof(StridedValidNet),
        ["OddPooling"] = typeof(OddPoolingNet),
        ["ModernCnn"] = typeof(ModernCnn),
        ["LayerZoo"] = typeof(LayerZoo),
        ["FlattenHead"] = typeof(FlattenHead),
        ["BinaryHead"] = typeof(BinaryHead),
        ["MultiLabelLogits"] = typeof(MultiLabelLogits),
        ["MaeRegression"] = typeof(MaeRegression),
    };

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var net in Networks.Keys)
        {
            data.Add(net, "sm_80");
            data.Add(net, "sm_90");
        }
        return data;
    }

    /// <summary>The generated executor's kernel table (<c>K.Expressions</c>), in launch-index order.</summary>
    internal static string[] GeneratedKernels(Type network)
    {
        var executor = network.GetNestedType("CudaExecutor", BindingFlags.NonPublic)
            ?? throw new InvalidOperationException($"{network} has no generated CudaExecutor");
        var table = executor.GetNestedType("K", BindingFlags.NonPublic)
            ?? throw new InvalidOperationException($"{network} has no kernel table K");
        return (string[])table.GetField("Expressions", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
    }

    /// <summary>
    /// What every network's module compiles after the generated kernels: the engine's own (loss accumulation,
    /// clipping), then the optimizers' that Kiln.Execution.CudaExecutor names as the layout's update kernels.
    /// </summary>
    internal static string[] SharedKernels =>
        [.. CudaEngine.SharedKernels, .. (string[])typeof(Optimizer).GetField("CudaKernels", BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!];

    [NvrtcTheory]
    [MemberData(nameof(Cases))]
    public void Every_name_expression_the_generator_emits_compiles(string net, string arch)
    {
        string[] names = [.. GeneratedKernels(Networks[net]), .. SharedKernels];
        var program = Nvrtc.Compile(KernelSources.All, $"{net}.cu", names, arch);

        Assert.True(program.IsCubin, $"{arch} should give a CUBIN with NVRTC {Nvrtc.Version}");
        Assert.Equal(arch, program.Arch);
        foreach (var name in names)
        {
            Assert.StartsWith("_Z", program.GetLoweredName(name), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_executor_shares_the_loss_accumulator_clipping_and_every_optimizer()
    {
        Assert.Equal(["kiln::loss_accumulate", "kiln::clip_value", "kiln::clip_norm", "kiln::clip_global_norm",
            "kiln::adam", "kiln::sgd", "kiln::rmsprop", "kiln::adagrad"], SharedKernels);
    }

    [Theory]
    [InlineData("Iris")]
    [InlineData("MnistCnn")]
    [InlineData("StridedValid")]
    [InlineData("OddPooling")]
    [InlineData("ModernCnn")]
    [InlineData("LayerZoo")]
    [InlineData("FlattenHead")]
    [InlineData("BinaryHead")]
    [InlineData("MultiLabelLogits")]
    [InlineData("MaeRegression")]
    public void The_declarations_here_generate_the_snapshot_kernels(string net)
    {
        var snapshot = Snapshot(net);
        var table = SnapshotKernel().Matches(snapshot).ToList();
        Assert.Equal(Enumerable.Range(0, table.Count), table.Select(m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)));
        Assert.Equal(table.Select(m => m.Groups[3].Value), GeneratedKernels(Networks[net]));
    }

    /// <summary>
    /// Every Launch in the generated CUDA executor passes as many arguments as the kernel has parameters, 4-byte
    /// values (batch, seeds, step, rates) where the kernel takes 4 bytes and addresses where it takes 8: a mismatch
    /// would read garbage on the GPU. The kernels' parameters come from the PTX NVRTC writes.
    /// </summary>
    [NvrtcTheory]
    [InlineData("Iris")]
    [InlineData("MnistCnn")]
    [InlineData("StridedValid")]
    [InlineData("OddPooling")]
    [InlineData("ModernCnn")]
    [InlineData("LayerZoo")]
    [InlineData("FlattenHead")]
    [InlineData("BinaryHead")]
    [InlineData("MultiLabelLogits")]
    [InlineData("MaeRegression")]
    public void Every_generated_launch_matches_the_kernel_parameters(string net)
    {
        var names = GeneratedKernels(Networks[net]);
        var program = Nvrtc.Compile(KernelSources.All, $"{net}.cu", names, "compute_80");
        var ptx = System.Text.Encoding.UTF8.GetString(program.Image[..^1]);
        var parameters = PtxEntry().Matches(ptx).ToDictionary(m => m.Groups[1].Value, m => PtxParameter().Matches(m.Groups[2].Value).Select(p => p.Groups[1].Value).ToArray());

        var snapshot = Snapshot(net);
        var constants = SnapshotKernel().Matches(snapshot).ToDictionary(m => m.Groups[1].Value, m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        var launches = GeneratedLaunch().Matches(snapshot);
        Assert.NotEmpty(launches);
        foreach (Match launch in launches)
        {
            var kernel = names[constants[launch.Groups[1].Value]];
            var expected = parameters[program.GetLoweredName(kernel)];
            var arguments = TopLevelArguments(launch.Groups[2].Value);
            Assert.True(expected.Length == arguments.Length, $"{kernel} takes {expected.Length} parameters, but the launch passes {arguments.Length}: {launch.Value}");
            for (var i = 0; i < arguments.Length; i++)
            {
                var bits = IsFourByteArgument(arguments[i]) ? "32" : "64";
                Assert.True(expected[i].EndsWith(bits, StringComparison.Ordinal), $"{kernel} parameter {i} is .{expected[i]}, but the launch passes '{arguments[i]}': {launch.Value}");
            }
        }
    }

    // What the generated code passes as an int, a uint or a float; everything else is a device address.
    private static bool IsFourByteArgument(string argument) =>
        argument is "batch"
        || BatchMultiple().IsMatch(argument)
        || argument.StartsWith("global::Kiln.Runtime.Cuda.KernelGeometry.BatchNormSplits(", StringComparison.Ordinal)
        || argument.StartsWith("LayerSeed(", StringComparison.Ordinal)
        || argument.StartsWith("global::Kiln.Runtime.Cuda.KernelGeometry.WeightSplits(", StringComparison.Ordinal)
        || FloatLiteral().IsMatch(argument);

    // "a, f(b, c), d" → ["a", "f(b, c)", "d"].
    private static string[] TopLevelArguments(string list)
    {
        var arguments = new List<string>();
        var (depth, start) = (0, 0);
        for (var i = 0; i < list.Length; i++)
        {
            depth += list[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (depth == 0 && list[i] == ',')
            {
                arguments.Add(list[start..i].Trim());
                start = i + 1;
            }
        }
        arguments.Add(list[start..].Trim());
        return [.. arguments];
    }

    private static string Snapshot(string net)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Dsl.sln")))
        {
            directory = directory.Parent;
        }
        Assert.NotNull(directory);
        var baselines = Path.Combine(directory.FullName, "tests", "Generator.Tests", "Baselines", net);
        return File.ReadAllText(Assert.Single(Directory.GetFiles(baselines, "*.Cuda.g.cs.verified.txt")));
    }

    [GeneratedRegex(@"public const int (\w+) = (\d+); // (kiln::.+)$", RegexOptions.Multiline)]
    private static partial Regex SnapshotKernel();

    [GeneratedRegex(@"Launch\(K\.(\w+), global::Kiln\.Runtime\.Cuda\.KernelGeometry\.\w+(?:\([^)]*\))?, (.*)\);")]
    private static partial Regex GeneratedLaunch();

    [GeneratedRegex(@"\.entry\s+(\S+)\(([^)]*)\)")]
    private static partial Regex PtxEntry();

    [GeneratedRegex(@"\.param\s+\.(\w+)")]
    private static partial Regex PtxParameter();

    [GeneratedRegex(@"^batch \* \d+$")]
    private static partial Regex BatchMultiple();

    [GeneratedRegex(@"^-?\d+(\.\d+)?(E-?\d+)?f$")]
    private static partial Regex FloatLiteral();
}
