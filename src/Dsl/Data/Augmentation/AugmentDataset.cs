namespace Kiln;

/// <summary>
/// Applies a list of augmentations to each example's features, in blocks spread over the cores. Example i of pass e
/// draws from the stream <see cref="SplitMix64.ForExample"/>(seed, e, i) alone, so its image depends on nothing else:
/// not on the thread that made it, nor on the block size.
/// </summary>
internal sealed class AugmentDataset(Dataset<Example> source, ImageShape shape, int seed, int maxThreads, ImageAugmentation[] steps) : Dataset<Example>
{
    // Enough examples per block to keep both cores busy between joins, few enough to start the first batch quickly.
    private const int BlockSize = 64;

    private long _passes;

    public override bool IsInfinite => source.IsInfinite;

    public override long? Count => source.Count;

    public override IEnumerator<Example> GetEnumerator() => Augment(Interlocked.Increment(ref _passes) - 1);

    private IEnumerator<Example> Augment(long pass)
    {
        var block = new Example[BlockSize];
        var index = 0L;
        var filled = 0;
        foreach (var example in source)
        {
            block[filled++] = example;
            if (filled == BlockSize)
            {
                Transform(block, filled, pass, index);
                for (var i = 0; i < filled; i++)
                {
                    yield return block[i];
                }
                index += filled;
                filled = 0;
            }
        }
        Transform(block, filled, pass, index);
        for (var i = 0; i < filled; i++)
        {
            yield return block[i];
        }
    }

    private void Transform(Example[] block, int count, long pass, long first)
    {
        if (count == 0)
        {
            return;
        }
        // Checked here rather than in the loop, whose exceptions would arrive wrapped in an AggregateException.
        for (var i = 0; i < count; i++)
        {
            if (block[i].Features is not { } features || features.Length != shape.Size)
            {
                throw new InvalidDataException($"Example {first + i} has {block[i].Features?.Length ?? 0} features, but a {shape} image has {shape.Size}.");
            }
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = maxThreads }, () => new float[shape.Size], (i, _, scratch) =>
        {
            // A copy: the source may be a cache, and its images must stay as they were for the next epoch.
            var image = (float[])block[i].Features.Clone();
            var random = new SplitMix64(SplitMix64.ForExample(seed, pass, first + i));
            foreach (var step in steps)
            {
                step.Apply(image, scratch, shape, ref random);
            }
            block[i] = block[i] with { Features = image };
            return scratch;
        }, _ => { });
    }
}
