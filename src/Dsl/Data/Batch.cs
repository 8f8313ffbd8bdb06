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

    /// <summary>
    /// Each example's loss weight (Keras' <c>sample_weight</c>), from <see cref="Example.Weight"/>; null when every
    /// example weighs one, which is the unweighted loss. Fit multiplies each example's loss and gradient by it and
    /// divides by the batch size, as Keras does. Non-negative and finite.
    /// </summary>
    public float[]? SampleWeights { get; set; }

    public int Count { get; set; }

    public int FeatureSize { get; set; }

    public int TargetSize { get; set; }

    /// <summary>The enumeration that made this batch and may refill it once Fit or Evaluate gives it back; null once kept.</summary>
    internal BatchPool? Pool { get; set; }
}
