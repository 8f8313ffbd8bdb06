namespace Kiln.Generator.Tests;

public class SnapshotTests
{
    public static TheoryData<string> Networks => [.. SampleNetworks.All.Keys];

    [Theory]
    [MemberData(nameof(Networks))]
    public void Generated_code_matches_the_baseline(string network)
    {
        var result = GeneratorHarness.Run(SampleNetworks.All[network]);

        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Equal(2, result.Files.Count);
        // Check every file before failing, so one run writes every .received.txt to review.
        var failures = new List<string>();
        foreach (var (name, text) in result.Files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            try
            {
                Snapshot.Verify(network, name, text);
            }
            catch (Xunit.Sdk.FailException e)
            {
                failures.Add(e.Message);
            }
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Generated_code_compiles_without_errors_or_warnings(string network)
    {
        var result = GeneratorHarness.Run(SampleNetworks.All[network]);

        Assert.Empty(result.CompilationProblems.Select(d => d.ToString()));
    }

    [Fact]
    public void Summaries_count_the_parameters_of_the_workshop_networks()
    {
        var iris = GeneratorHarness.Run(SampleNetworks.Iris).Files["Samples.IrisNet.g.cs"];
        var mnist = GeneratorHarness.Run(SampleNetworks.MnistCnn).Files["Samples.MnistCnn.g.cs"];

        Assert.Contains("public const int ParameterCount = 193;", iris);
        Assert.Contains(" Total params: 193 (772.00 B)", iris);
        Assert.Contains("public const int ParameterCount = 215370;", mnist);
        Assert.Contains(" Total params: 215,370 (841.29 KB)", mnist);
        Assert.Contains("│ conv2d_1 (Conv2D)               │ (None, 14, 14, 32)     │        12,832 │", mnist);
    }
}
