namespace Kiln;

/// <summary>Whether a monitored quantity improves by going down or up; Auto picks Max for accuracies, Min otherwise (Keras' rule).</summary>
public enum MonitorMode
{
    Auto,
    Min,
    Max,
}

/// <summary>Resolves a metric name and mode the way Keras' callbacks do.</summary>
internal static class Monitor
{
    public static bool Maximises(string monitor, MonitorMode mode) => mode switch
    {
        MonitorMode.Max => true,
        MonitorMode.Min => false,
        _ => monitor.Contains("acc", StringComparison.Ordinal) || monitor.StartsWith("fmeasure", StringComparison.Ordinal),
    };

    public static string Check(string monitor)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(monitor);
        if (!EpochMetrics.Names.Contains(monitor))
        {
            throw new ArgumentException($"Unknown metric '{monitor}'; Fit logs {string.Join(", ", EpochMetrics.Names)}.", nameof(monitor));
        }
        return monitor;
    }

    /// <summary>A note on the output when the monitored value is missing (no validation set), as Keras warns.</summary>
    public static double? Value(EpochMetrics logs, string monitor, FitContext context, string who)
    {
        var value = logs.Metric(monitor);
        if (value is null)
        {
            context.Output?.WriteLine($"{who}: '{monitor}' is not available (logged: {string.Join(", ", logs.Available())}); skipping.");
        }
        return value;
    }
}
