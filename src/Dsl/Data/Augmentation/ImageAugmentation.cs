namespace Kiln;

/// <summary>
/// One random image transform, named and parameterised as the Keras 3 preprocessing layer of the same name, applied
/// to examples by <see cref="Dataset.Augment(Dataset{Example}, ImageShape, int, ImageAugmentation[])"/>. Instances hold only their settings and are immutable: one instance
/// may serve any number of pipelines and threads at once.
/// </summary>
/// <remarks>
/// Kiln's pixels lie in [0, 1] (the embedded MNIST, <c>Kiln.Images</c>), so the transforms that clip to a value
/// range default to (0, 1) where Keras defaults to (0, 255); pass <c>valueRange</c> to change it.
/// </remarks>
public abstract class ImageAugmentation
{
    private protected ImageAugmentation()
    {
    }

    /// <summary>
    /// Transforms <paramref name="image"/> in place, drawing every random number from <paramref name="random"/> in a
    /// fixed order (so a stream gives one result). <paramref name="scratch"/> holds at least one image.
    /// </summary>
    internal abstract void Apply(Span<float> image, Span<float> scratch, ImageShape shape, ref SplitMix64 random);

    /// <summary>Keras' factor convention: a single value f means [−f, f]; a pair is (lower, upper).</summary>
    private protected static (double Lower, double Upper) Symmetric(double factor, string name)
    {
        CheckFinite(factor, name);
        return (-Math.Abs(factor), Math.Abs(factor));
    }

    private protected static (double Lower, double Upper) Ordered(double lower, double upper, string name)
    {
        CheckFinite(lower, name);
        CheckFinite(upper, name);
        if (lower > upper)
        {
            throw new ArgumentException($"{name}: the lower bound {lower} exceeds the upper bound {upper}.", name);
        }
        return (lower, upper);
    }

    private protected static void CheckWithin((double Lower, double Upper) range, double min, double max, string name)
    {
        if (range.Lower < min || range.Upper > max)
        {
            throw new ArgumentOutOfRangeException(name, range, $"{name} must lie within [{min}, {max}].");
        }
    }

    private protected static (float Low, float High) CheckValueRange((double Low, double High)? range, string name)
    {
        var (low, high) = range ?? (0, 1);
        CheckFinite(low, name);
        CheckFinite(high, name);
        if (!(low < high))
        {
            throw new ArgumentException($"{name}: the low end {low} must be below the high end {high}.", name);
        }
        return ((float)low, (float)high);
    }

    private static void CheckFinite(double value, string name)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number.");
        }
    }
}
