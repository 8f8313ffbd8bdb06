namespace Kiln;

/// <summary>
/// Keras' <c>RandomRotation(factor, fill_mode="reflect", interpolation="bilinear", fill_value=0)</c>: rotates each
/// image about its centre by an angle drawn uniformly from [lower·360°, upper·360°]; positive angles turn the content
/// counter-clockwise. A single factor f means [−f, f].
/// </summary>
/// <remarks>Immutable: one instance may serve any number of pipelines and threads at once.</remarks>
public sealed class RandomRotation : GeometricAugmentation
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
        : base(fillMode, interpolation, fillValue)
    {
        _factor = factor;
    }

    public double Lower => _factor.Lower;

    public double Upper => _factor.Upper;

    internal override Affine Draw(ImageShape shape, ref SplitMix64 random)
    {
        var degrees = random.NextDouble(_factor.Lower * 360, _factor.Upper * 360);
        return Affine.Rotation(degrees * Math.PI / 180, shape.Height, shape.Width);
    }
}
