namespace Kiln.Generator.Tests;

/// <summary>
/// The sample networks, read from tests/Samples (one file each), which the CUDA and interchange tests compile: one
/// declaration of each network for every test.
/// </summary>
public static class SampleNetworks
{
    public static readonly IReadOnlyDictionary<string, string> All = new[] { "Iris", "MnistCnn", "StridedValid", "OddPooling", "ModernCnn", "LayerZoo", "FlattenHead", "BinaryHead", "MultiLabelLogits", "MaeRegression" }
        .ToDictionary(name => name, name => File.ReadAllText(Path.Combine(DiagnosticTests.RepoRoot(), "tests", "Samples", name + ".cs")));

    public static string Iris => All[nameof(Iris)];

    public static string MnistCnn => All[nameof(MnistCnn)];

    public static string StridedValid => All[nameof(StridedValid)];

    public static string OddPooling => All[nameof(OddPooling)];

    public static string ModernCnn => All[nameof(ModernCnn)];

    public static string LayerZoo => All[nameof(LayerZoo)];

    public static string FlattenHead => All[nameof(FlattenHead)];
}
