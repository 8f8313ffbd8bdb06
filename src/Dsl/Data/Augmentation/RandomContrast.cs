namespace Kiln;

/// <summary>
/// Keras' <c>RandomContrast(factor, value_range)</c>: draws a contrast factor uniformly from [1 − lower, 1 + upper]
/// and moves each channel's values away from (or towards) that channel's mean over the image:
/// (x − mean)·factor + mean, clipped to the value range. A single f means lower = upper = f; both lie within [0, 1].
/// </summary>
/// <remarks>Immutable: one instance may serve any number of pipelines and threads at once.</remarks>
public sealed class RandomContrast : ImageAugmentation
{
    private readonly (double Lower, double Upper) _factor;
    private readonly (float Low, float High) _range;

    public RandomContrast(double factor, (double Low, double High)? valueRange = null)
        : this((factor, factor), valueRange)
    {
    }

    public RandomContrast((double Lower, double Upper) factor, (double Low, double High)? valueRange = null)
    {
        if (!(factor.Lower is >= 0 and <= 1) || !(factor.Upper is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "Both contrast factors must lie within [0, 1].");
        }
        _factor = factor;
        _range = CheckValueRange(valueRange, nameof(valueRange));
    }

    internal override void Apply(Span<float> image, Span<float> scratch, ImageShape shape, ref SplitMix64 random)
    {
        var factor = (float)random.NextDouble(1 - _factor.Lower, 1 + _factor.Upper);
        var c = shape.Channels;
        var pixels = shape.Height * shape.Width;
        for (var k = 0; k < c; k++)
        {
            var sum = 0.0;
            for (var p = 0; p < pixels; p++)
            {
                sum += image[p * c + k];
            }
            var mean = (float)(sum / pixels);
            for (var p = 0; p < pixels; p++)
            {
                ref var v = ref image[p * c + k];
                v = Math.Clamp((v - mean) * factor + mean, _range.Low, _range.High);
            }
        }
    }
}
