namespace Kiln;

internal sealed class BatchDataset(Dataset<Example> source, int size, bool dropRemainder) : Dataset<Batch>
{
    public override bool IsInfinite => source.IsInfinite;

    public override long? Count => source.Count is { } n ? dropRemainder ? n / size : (n + size - 1) / size : null;

    public override IEnumerator<Batch> GetEnumerator()
    {
        // The first example of the pass fixes the sizes; every later one is checked against it.
        var featureSize = -1;
        var targetSize = -1;
        var index = 0L;
        Batch? batch = null;
        var pool = new BatchPool();
        try
        {
            // Compact: examples kept as bytes are converted here, straight into the batch.
            foreach (var example in source.Read(compact: true))
            {
                var featureCount = example.FeatureCount;
                if (featureCount < 0)
                {
                    throw new InvalidDataException($"Example {index} has no features.");
                }
                var target = example.Target;
                if (featureSize < 0)
                {
                    featureSize = featureCount;
                    targetSize = target?.Length ?? -1;
                }
                else if (featureCount != featureSize)
                {
                    throw new InvalidDataException($"Example {index} has {featureCount} features, but the examples before it have {featureSize}.");
                }
                else if ((target?.Length ?? -1) != targetSize)
                {
                    throw new InvalidDataException($"Example {index} has {Describe(target?.Length ?? -1)}, but the examples before it have {Describe(targetSize)}.");
                }

                batch ??= Reuse(pool.Take(), featureSize, targetSize) ?? NewBatch(Capacity(index), featureSize, targetSize, index);
                var row = batch.Count;
                if (row == batch.Labels.Length)
                {
                    throw new InvalidOperationException($"The dataset yielded example {index}, more than the {source.Count} it says it holds.");
                }
                example.CopyFeaturesTo(batch.Features.AsSpan(row * featureSize, featureSize));
                target?.CopyTo(batch.Targets!, row * targetSize);
                batch.Labels[row] = example.Label;
                if (example.Weight != 1f || batch.SampleWeights is not null)
                {
                    Weigh(batch, row, example.Weight);
                }
                batch.Count++;
                index++;
                if (batch.Count == size)
                {
                    batch.Pool = pool;
                    yield return batch;
                    batch = null;
                }
            }
            if (batch is not null && !dropRemainder)
            {
                // The tail gets arrays of its own length, so Features.Length == Count * FeatureSize for every batch.
                yield return Trim(batch);
            }
        }
        finally
        {
            pool.Close();
        }
    }

    // A given-back batch of this pass's shape, emptied; sizes are fixed per pass, so any given-back batch fits.
    private static Batch? Reuse(Batch? batch, int featureSize, int targetSize)
    {
        if (batch is null || batch.FeatureSize != featureSize || (batch.Targets is null) != (targetSize < 0))
        {
            return null;
        }
        batch.Count = 0;
        batch.SampleWeights = null;
        return batch;
    }

    // Weights exist only in batches with an example that does not weigh one, so unweighted batches stay as they were.
    private static void Weigh(Batch batch, int row, float weight)
    {
        if (batch.SampleWeights is null)
        {
            batch.SampleWeights = new float[batch.Labels.Length];
            batch.SampleWeights.AsSpan(0, row).Fill(1f);
        }
        batch.SampleWeights[row] = weight;
    }

    private static string Describe(int targetSize) => targetSize < 0 ? "no target" : $"a target of {targetSize} values";

    // Room for the examples this batch can still get: a size larger than the dataset (Batch(int.MaxValue) for "all
    // at once") allocates only what a known count can fill.
    private int Capacity(long index) => source.Count is { } count ? (int)Math.Min(size, Math.Max(count - index, 1)) : size;

    // Consumers may keep batches (Cache, ToList) or hold several at once (Prefetch), so only a batch given back
    // (BatchPool.Recycle) is refilled; others are new.
    private static Batch NewBatch(int capacity, int featureSize, int targetSize, long index)
    {
        if ((long)capacity * Math.Max(featureSize, targetSize) > Array.MaxLength)
        {
            throw new InvalidOperationException($"A batch of {capacity} examples of {Math.Max(featureSize, targetSize)} values each, from example {index} on, exceeds the largest array ({Array.MaxLength} elements); use a smaller batch size.");
        }
        return new()
        {
            Features = new float[capacity * featureSize],
            Labels = new int[capacity],
            Targets = targetSize < 0 ? null : new float[capacity * targetSize],
            FeatureSize = featureSize,
            TargetSize = Math.Max(targetSize, 0),
        };
    }

    private static Batch Trim(Batch batch) => batch.Labels.Length == batch.Count ? batch : new()
    {
        Features = batch.Features[..(batch.Count * batch.FeatureSize)],
        Labels = batch.Labels[..batch.Count],
        Targets = batch.Targets?[..(batch.Count * batch.TargetSize)],
        SampleWeights = batch.SampleWeights?[..batch.Count],
        Count = batch.Count,
        FeatureSize = batch.FeatureSize,
        TargetSize = batch.TargetSize,
    };
}
