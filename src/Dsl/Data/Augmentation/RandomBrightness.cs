namespace Kiln;

/// <summary>
/// Keras' <c>RandomBrightness(factor, value_range)</c>: adds to every value of an image one delta drawn uniformly from
/// [lower, upper] × (high − low) of the value range, then clips to the range. A single f means [−f, f]; factors lie
/// within [−1, 1]. The value range defaults to (0, 1), Kiln's pixel range (Keras: (0, 255)).
/// </summary>
/// <remarks>Immutable: one instance may serve any number of pipelines and threads at once.</remarks>
public sealed class RandomBrightness : ImageAugmentation
{
    private readonly (double Lower, double Upper) _factor;
    private readonly (float Low, float High) _range;

    public RandomBrightness(double factor, (double Low, double High)? valueRange = null)
        : this((-Math.Abs(factor), Math.Abs(factor)), valueRange)
    {
    }

    public RandomBrightness((double Lower, double Upper) factor, (double Low, double High)? valueRange = null)
    {
        _factor = Ordered(factor.Lower, factor.Upper, nameof(factor));
        CheckWithin(_factor, -1, 1, nameof(factor));
        _range = CheckValueRange(valueRange, nameof(valueRange));
    }

    internal override void Apply(Span<float> image, Span<float> scratch, ImageShape shape, ref SplitMix64 random)
    {
        var delta = (float)(random.NextDouble(_factor.Lower, _factor.Upper) * (_range.High - _range.Low));
        foreach (ref var v in image)
        {
            v = Math.Clamp(v + delta, _range.Low, _range.High);
        }
    }
}
