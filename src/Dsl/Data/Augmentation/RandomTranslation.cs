namespace Kiln;

/// <summary>
/// Keras' <c>RandomTranslation(height_factor, width_factor, fill_mode="reflect", interpolation="bilinear")</c>: shifts
/// each image by a fraction of its height (positive: down) and of its width (positive: right), each drawn uniformly;
/// a single f means [−f, f]. Factors lie within [−1, 1].
/// </summary>
/// <remarks>Immutable: one instance may serve any number of pipelines and threads at once.</remarks>
public sealed class RandomTranslation : GeometricAugmentation
{
    private readonly (double Lower, double Upper) _height;
    private readonly (double Lower, double Upper) _width;

    public RandomTranslation(double heightFactor, double widthFactor, FillMode fillMode = FillMode.Reflect, Interpolation interpolation = Interpolation.Bilinear, float fillValue = 0f)
        : this(Symmetric(heightFactor, nameof(heightFactor)), Symmetric(widthFactor, nameof(widthFactor)), fillMode, interpolation, fillValue)
    {
    }

    public RandomTranslation((double Lower, double Upper) heightFactor, (double Lower, double Upper) widthFactor, FillMode fillMode = FillMode.Reflect, Interpolation interpolation = Interpolation.Bilinear, float fillValue = 0f)
        : base(fillMode, interpolation, fillValue)
    {
        _height = Ordered(heightFactor.Lower, heightFactor.Upper, nameof(heightFactor));
        _width = Ordered(widthFactor.Lower, widthFactor.Upper, nameof(widthFactor));
        CheckWithin(_height, -1, 1, nameof(heightFactor));
        CheckWithin(_width, -1, 1, nameof(widthFactor));
    }

    internal override Affine Draw(ImageShape shape, ref SplitMix64 random)
    {
        var dy = random.NextDouble(_height.Lower, _height.Upper) * shape.Height;
        var dx = random.NextDouble(_width.Lower, _width.Upper) * shape.Width;
        return Affine.Translation(dx, dy);
    }
}
