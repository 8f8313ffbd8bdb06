namespace Kiln;

/// <summary>
/// Examples laid out contiguously: <see cref="Features"/> holds <see cref="Count"/> rows of
/// <see cref="FeatureSize"/> floats, <see cref="Targets"/> (when present) rows of <see cref="TargetSize"/>.
/// </summary>
public sealed class Batch
{
    public float[] Features { get; set; } = [];

    public int[] Labels { get; set; } = [];

    public float[]? Targets { get; set; }

    public int Count { get; set; }

    public int FeatureSize { get; set; }

    public int TargetSize { get; set; }

    /// <summary>The enumeration that made this batch and may refill it once Fit or Evaluate gives it back; null once kept.</summary>
    internal BatchPool? Pool { get; set; }
}
