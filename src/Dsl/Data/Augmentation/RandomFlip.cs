namespace Kiln;

/// <summary>Which axes <see cref="RandomFlip"/> may flip (Keras' <c>mode</c>).</summary>
public enum FlipMode
{
    /// <summary>Left–right, with probability ½.</summary>
    Horizontal,

    /// <summary>Top–bottom, with probability ½.</summary>
    Vertical,

    /// <summary>Each of the two, independently with probability ½ (Keras' default).</summary>
    HorizontalAndVertical,
}

/// <summary>Keras' <c>RandomFlip(mode)</c>: flips each image left–right and/or top–bottom, each with probability ½.</summary>
/// <remarks>Immutable: one instance may serve any number of pipelines and threads at once.</remarks>
public sealed class RandomFlip(FlipMode mode = FlipMode.HorizontalAndVertical) : ImageAugmentation
{
    public FlipMode Mode { get; } = Enum.IsDefined(mode) ? mode : throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown flip mode.");

    internal override void Apply(Span<float> image, Span<float> scratch, ImageShape shape, ref SplitMix64 random)
    {
        // Both coins are always tossed, so the streams of later augmentations do not depend on the mode.
        var horizontal = random.NextDouble() < 0.5 && Mode != FlipMode.Vertical;
        var vertical = random.NextDouble() < 0.5 && Mode != FlipMode.Horizontal;
        if (!horizontal && !vertical)
        {
            return;
        }
        var (h, w, c) = (shape.Height, shape.Width, shape.Channels);
        image.CopyTo(scratch);
        for (var y = 0; y < h; y++)
        {
            var sy = vertical ? h - 1 - y : y;
            for (var x = 0; x < w; x++)
            {
                var sx = horizontal ? w - 1 - x : x;
                scratch.Slice((sy * w + sx) * c, c).CopyTo(image.Slice((y * w + x) * c, c));
            }
        }
    }
}
