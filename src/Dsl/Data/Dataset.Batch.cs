namespace Kiln;

public static partial class Dataset
{
    /// <summary>
    /// Groups consecutive examples into batches of <paramref name="size"/>; the last batch of a pass is smaller
    /// unless <paramref name="dropRemainder"/> drops it. All examples must have the same number of features
    /// (and of target values).
    /// </summary>
    public static Dataset<Batch> Batch(this Dataset<Example> source, int size, bool dropRemainder = false)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        return new BatchDataset(source, size, dropRemainder);
    }
}
