namespace Kiln;

/// <summary>
/// Keras' <c>RandomRotation(factor, fill_mode="reflect", interpolation="bilinear", fill_value=0)</c>: rotates each
/// image about its centre by an angle drawn uniformly from [lower·360°, upper·360°]; positive angles turn the content
/// counter-clockwise. A single factor f means [−f, f].
/// </summary>
public sealed class RandomRotation : ImageAugmentation
{
    private readonly (double Lower, double Upper) _factor;

    public RandomRotation(double factor, FillMode fillMode = FillMode.Reflect, Interpolation interpolation = Interpolation.Bilinear, float fillValue = 0f)
        : this(Symmetric(factor, nameof(factor)), fillMode, interpolation, fillValue)
    {
    }

    public RandomRotation(double lower, double upper, FillMode fillMode = FillMode.Reflect, Interpolation interpolation = Interpolation.Bilinear, float fillValue = 0f)
        : this(Ordered(lower, upper, "factor"), fillMode, interpolation, fillValue)
    {
    }

    private RandomRotation((double, double) factor, FillMode fillMode, Interpolation interpolation, float fillValue)
    {
        _factor = factor;
        FillMode = fillMode;
        Interpolation = interpolation;
        FillValue = fillValue;
    }

    public double Lower => _factor.Lower;

    public double Upper => _factor.Upper;

    public FillMode FillMode { get; }

    public Interpolation Interpolation { get; }

    public float FillValue { get; }

    internal override void Apply(Span<float> image, Span<float> scratch, ImageShape shape, ref SplitMix64 random)
    {
        var degrees = random.NextDouble(_factor.Lower * 360, _factor.Upper * 360);
        image.CopyTo(scratch);
        Affine.Rotation(degrees * Math.PI / 180, shape.Height, shape.Width).Apply(scratch, image, shape, FillMode, Interpolation, FillValue);
    }
}
