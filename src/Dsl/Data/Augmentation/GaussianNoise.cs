namespace Kiln;

/// <summary>
/// Keras' <c>GaussianNoise(stddev)</c>: adds independent normal noise of mean 0 and standard deviation
/// <see cref="StandardDeviation"/> to every value (no clipping, as in Keras).
/// </summary>
/// <remarks>Immutable: one instance may serve any number of pipelines and threads at once.</remarks>
public sealed class GaussianNoise : ImageAugmentation
{
    public GaussianNoise(double stddev)
    {
        if (!(stddev >= 0) || !double.IsFinite(stddev))
        {
            throw new ArgumentOutOfRangeException(nameof(stddev), stddev, "The standard deviation must be a finite number, 0 or more.");
        }
        StandardDeviation = stddev;
    }

    public double StandardDeviation { get; }

    internal override void Apply(Span<float> image, Span<float> scratch, ImageShape shape, ref SplitMix64 random)
    {
        foreach (ref var v in image)
        {
            v += (float)(StandardDeviation * random.NextGaussian());
        }
    }
}
