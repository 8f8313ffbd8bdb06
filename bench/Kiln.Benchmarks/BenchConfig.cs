using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace Kiln.Benchmarks;

/// <summary>Short runs (the whole suite in a few minutes), allocations, and the arithmetic rate beside the machine's peak.</summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        Add(DefaultConfig.Instance);
        AddJob(Job.ShortRun);
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(new GflopsColumn());
        WithOptions(ConfigOptions.DisableOptimizationsValidator);
    }
}
