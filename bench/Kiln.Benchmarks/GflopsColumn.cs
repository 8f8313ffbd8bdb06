using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Kiln.Benchmarks;

/// <summary>
/// GFLOP/s of a benchmark carrying <see cref="FlopsAttribute"/>, and its share of the machine's peak. The peak assumes
/// AVX2 with two 256-bit FMA pipes: cores × <see cref="PeakGhz"/> GHz × 2 FMA × 8 lanes × 2 FLOP; with 2 cores at 2.3 GHz,
/// about 147 GFLOP/s (a boost clock above 2.3 GHz raises the real peak, so the share can read above what it is).
/// </summary>
public sealed class GflopsColumn : IColumn
{
    public const double PeakGhz = 2.3;

    public static double PeakGflops => Environment.ProcessorCount * PeakGhz * 2 * 8 * 2;

    public string Id => nameof(GflopsColumn);
    public string ColumnName => $"GFLOP/s (peak {PeakGflops:0})";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => $"Arithmetic rate from the shapes; peak = {Environment.ProcessorCount} cores × {PeakGhz} GHz × 2 FMA × 8 lanes × 2";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var flops = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<FlopsAttribute>()?.Flops;
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (flops is null || mean is not > 0)
        {
            return "-";
        }
        var gflops = flops.Value / mean.Value;   // FLOP per ns = GFLOP/s
        return string.Create(CultureInfo.InvariantCulture, $"{gflops:0.0} ({gflops / PeakGflops:P0})");
    }

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
