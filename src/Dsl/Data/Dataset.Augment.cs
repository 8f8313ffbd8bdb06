namespace Kiln;

public static partial class Dataset
{
    /// <summary>
    /// Applies <paramref name="augmentations"/> in order to every example's features, read as a
    /// <paramref name="shape"/> image (channels last). Example i of pass e of this dataset gets the same image for the
    /// same seed whatever the number of threads; each pass (epoch) draws afresh. The work is spread over the cores in
    /// blocks; put <see cref="Dataset{T}.Prefetch"/> after <see cref="Batch"/> to run it ahead of the training step.
    /// Labels and targets pass through unchanged.
    /// </summary>
    public static Dataset<Example> Augment(this Dataset<Example> source, ImageShape shape, int seed, params ImageAugmentation[] augmentations)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(augmentations);
        shape.Validate(nameof(shape));
        if (Array.IndexOf(augmentations, null) is var i and >= 0)
        {
            throw new ArgumentNullException($"{nameof(augmentations)}[{i}]");
        }
        return new AugmentDataset(source, shape, seed, [.. augmentations]);
    }
}
