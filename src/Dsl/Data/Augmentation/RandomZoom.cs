namespace Kiln;

/// <summary>
/// Keras' <c>RandomZoom(height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear")</c>: scales
/// each image about its centre. A factor is a fraction of the size: positive values zoom out (the content shrinks),
/// negative values zoom in; a single f means [−f, f]. Without a width factor the same zoom keeps the aspect ratio.
/// </summary>
/// <remarks>Immutable: one instance may serve any number of pipelines and threads at once.</remarks>
public sealed class RandomZoom : GeometricAugmentation
{
    private readonly (double Lower, double Upper) _height;
    private readonly (double Lower, double Upper)? _width;

    public RandomZoom(double heightFactor, double? widthFactor = null, FillMode fillMode = FillMode.Reflect, Interpolation interpolation = Interpolation.Bilinear, float fillValue = 0f)
        : this(Symmetric(heightFactor, nameof(heightFactor)), widthFactor is { } w ? Symmetric(w, nameof(widthFactor)) : null, fillMode, interpolation, fillValue)
    {
    }

    public RandomZoom((double Lower, double Upper) heightFactor, (double Lower, double Upper)? widthFactor = null, FillMode fillMode = FillMode.Reflect, Interpolation interpolation = Interpolation.Bilinear, float fillValue = 0f)
        : base(fillMode, interpolation, fillValue)
    {
        _height = Ordered(heightFactor.Lower, heightFactor.Upper, nameof(heightFactor));
        CheckWithin(_height, -1, double.MaxValue, nameof(heightFactor));
        if (widthFactor is { } width)
        {
            _width = Ordered(width.Lower, width.Upper, nameof(widthFactor));
            CheckWithin(_width.Value, -1, double.MaxValue, nameof(widthFactor));
        }
    }

    internal override Affine Draw(ImageShape shape, ref SplitMix64 random)
    {
        var zoomY = 1 + random.NextDouble(_height.Lower, _height.Upper);
        var zoomX = _width is { } width ? 1 + random.NextDouble(width.Lower, width.Upper) : zoomY;
        return Affine.Zoom(zoomX, zoomY, shape.Height, shape.Width);
    }
}
