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
    public static Dataset<Example> Augment(this Dataset<Example> source, ImageShape shape, int seed, params ImageAugmentation[] augmentations) =>
        Augment(source, shape, seed, maxThreads: -1, augmentations);

    /// <summary>
    /// <see cref="Augment(Dataset{Example}, ImageShape, int, ImageAugmentation[])"/> on at most
    /// <paramref name="maxThreads"/> threads (−1: all cores); the images are the same for every value.
    /// </summary>
    public static Dataset<Example> Augment(this Dataset<Example> source, ImageShape shape, int seed, int maxThreads, params ImageAugmentation[] augmentations)
    {
        if (maxThreads is 0 or < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxThreads), maxThreads, "Give a positive number of threads, or −1 for all cores.");
        }
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(augmentations);
        shape.Validate(nameof(shape));
        if (Array.IndexOf(augmentations, null) is var i and >= 0)
        {
            throw new ArgumentNullException($"{nameof(augmentations)}[{i}]");
        }
        return new AugmentDataset(source, shape, seed, maxThreads, [.. augmentations]);
    }
}
