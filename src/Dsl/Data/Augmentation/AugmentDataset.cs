namespace Kiln;

/// <summary>
/// Applies a list of augmentations to each example's features, in blocks spread over the cores. Consecutive geometric
/// augmentations that fill and interpolate alike are composed into one affine map and resampled once: the same
/// geometry as applying them one by one, with one interpolation instead of several. Example i of pass e
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
        // Compact: an example kept as bytes is expanded once, into the image the augmentations then work on.
        foreach (var example in source.Read(compact: true))
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
            if (block[i].FeatureCount != shape.Size)
            {
                throw new InvalidDataException($"Example {first + i} has {Math.Max(block[i].FeatureCount, 0)} features, but a {shape} image has {shape.Size}.");
            }
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = maxThreads }, () => new float[shape.Size], (i, _, scratch) =>
        {
            // A copy: the source may be a cache, and its images must stay as they were for the next epoch.
            var image = block[i].Bytes is { } bytes ? bytes.ToArray(block[i].Row) : (float[])block[i].Features.Clone();
            var random = new SplitMix64(SplitMix64.ForExample(seed, pass, first + i));
            for (var s = 0; s < steps.Length; s++)
            {
                if (steps[s] is GeometricAugmentation first)
                {
                    // A run of geometric steps with the same fill and interpolation: one composed map, one resampling.
                    var map = first.Draw(shape, ref random);
                    while (s + 1 < steps.Length && steps[s + 1] is GeometricAugmentation next && next.Resamples(first))
                    {
                        map = map.Then(next.Draw(shape, ref random));
                        s++;
                    }
                    image.CopyTo(scratch);
                    map.Apply(scratch, image, shape, first.FillMode, first.Interpolation, first.FillValue);
                }
                else
                {
                    steps[s].Apply(image, scratch, shape, ref random);
                }
            }
            block[i] = block[i] with { Features = image, Bytes = null, Row = 0 };
            return scratch;
        }, _ => { });
    }
}
