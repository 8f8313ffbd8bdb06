namespace Kiln;

/// <summary>
/// An augmentation that moves pixels: it draws an affine map from output to input coordinates and resamples.
/// <see cref="Dataset.Augment(Dataset{Example}, ImageShape, int, ImageAugmentation[])"/> composes consecutive ones
/// that share a fill mode, fill value and interpolation into one map and resamples once.
/// </summary>
/// <remarks>Immutable: one instance may serve any number of pipelines and threads at once.</remarks>
public abstract class GeometricAugmentation : ImageAugmentation
{
    private protected GeometricAugmentation(FillMode fillMode, Interpolation interpolation, float fillValue)
    {
        FillMode = Enum.IsDefined(fillMode) ? fillMode : throw new ArgumentOutOfRangeException(nameof(fillMode), fillMode, "Unknown fill mode.");
        Interpolation = Enum.IsDefined(interpolation) ? interpolation : throw new ArgumentOutOfRangeException(nameof(interpolation), interpolation, "Unknown interpolation.");
        FillValue = fillValue;
    }

    public FillMode FillMode { get; }

    public Interpolation Interpolation { get; }

    /// <summary>The value beyond the border under <see cref="FillMode.Constant"/>.</summary>
    public float FillValue { get; }

    /// <summary>Draws this transform's map for one image (always the same count of numbers from <paramref name="random"/>).</summary>
    internal abstract Affine Draw(ImageShape shape, ref SplitMix64 random);

    internal bool Resamples(GeometricAugmentation other) =>
        FillMode == other.FillMode && Interpolation == other.Interpolation && FillValue.Equals(other.FillValue);

    internal override void Apply(Span<float> image, Span<float> scratch, ImageShape shape, ref SplitMix64 random)
    {
        var map = Draw(shape, ref random);
        image.CopyTo(scratch);
        map.Apply(scratch, image, shape, FillMode, Interpolation, FillValue);
    }
}
