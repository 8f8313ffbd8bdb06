namespace Kiln.Tests.Data;

public class BatchTests
{
    // Example i has features [10i, 10i + 1, 10i + 2, 10i + 3] and label i % 3.
    private static Dataset<Example> Examples(int count) => Dataset.FromArrays(
        [.. Enumerable.Range(0, count).Select(i => Enumerable.Range(0, 4).Select(j => 10f * i + j).ToArray())],
        [.. Enumerable.Range(0, count).Select(i => i % 3)]);

    [Fact]
    public void Batch_LaysOutRowsContiguously_WithASmallerLastBatch()
    {
        var batches = Examples(10).Batch(3);
        var list = batches.ToList();

        Assert.Equal(4, batches.Count);
        Assert.Equal([3, 3, 3, 1], list.Select(b => b.Count));
        Assert.All(list, b => Assert.Equal(4, b.FeatureSize));
        Assert.All(list, b => Assert.Equal(b.Count * 4, b.Features.Length));
        Assert.All(list, b => Assert.Equal(b.Count, b.Labels.Length));
        Assert.All(list, b => Assert.Null(b.Targets));
        Assert.Equal([30f, 31f, 32f, 33f, 40f, 41f, 42f, 43f, 50f, 51f, 52f, 53f], list[1].Features);
        Assert.Equal([0, 1, 2], list[1].Labels);
        Assert.Equal([90f, 91f, 92f, 93f], list[3].Features);
        Assert.Equal([0], list[3].Labels);
    }

    [Fact]
    public void Batch_DropRemainder_DropsTheShortBatch()
    {
        var batches = Examples(10).Batch(3, dropRemainder: true);

        Assert.Equal(3, batches.Count);
        Assert.Equal([3, 3, 3], batches.Select(b => b.Count));
        Assert.Equal(2, Examples(10).Batch(5, dropRemainder: true).Count());
    }

    [Fact]
    public void Batch_CopiesTargets()
    {
        float[][] features = [[1f], [2f], [3f]];
        float[][] targets = [[1f, 0f], [0f, 1f], [0.5f, 0.5f]];

        var batch = Assert.Single(Dataset.FromArrays(features, targets).Batch(8));

        Assert.Equal(3, batch.Count);
        Assert.Equal(2, batch.TargetSize);
        Assert.Equal([1f, 0f, 0f, 1f, 0.5f, 0.5f], batch.Targets!);
        Assert.Equal([1f, 2f, 3f], batch.Features);
    }

    [Fact]
    public void Batch_KeepsEarlierBatchesIntact()
    {
        var batches = Examples(6).Batch(2).ToList();

        Assert.Equal([0f, 1f, 2f, 3f, 10f, 11f, 12f, 13f], batches[0].Features);
        Assert.NotSame(batches[0].Features, batches[1].Features);
    }

    [Fact]
    public void Batch_UnequalFeatureLengths_NameTheExampleAndTheLengths()
    {
        float[][] features = [[1f, 2f], [3f, 4f], [5f], [6f, 7f]];

        var error = Assert.Throws<InvalidDataException>(() => Dataset.FromArrays(features, new int[4]).Batch(2).ToList());

        Assert.Contains("Example 2", error.Message);
        Assert.Contains("1 features", error.Message);
        Assert.Contains("have 2", error.Message);
    }

    [Fact]
    public void Batch_MixingTargetsAndNoTargets_IsAnError()
    {
        var data = Dataset.From([new Example([1f], 0, [1f, 0f]), new Example([2f], 1)]);

        var error = Assert.Throws<InvalidDataException>(() => data.Batch(2).ToList());

        Assert.Contains("Example 1", error.Message);
        Assert.Contains("no target", error.Message);
    }

    [Fact]
    public void Batch_OfAnInfiniteDataset_IsInfinite()
    {
        var batches = Examples(5).Repeat().Batch(2);

        Assert.True(batches.IsInfinite);
        Assert.Null(batches.Count);
        Assert.Equal([2, 2, 2, 2], batches.Take(4).Select(b => b.Count));
    }

    [Fact]
    public void FromArrays_UnequalLengths_NameTheArgument()
    {
        float[][] features = [[1f], [2f]];

        var labels = Assert.Throws<ArgumentException>(() => Dataset.FromArrays(features, new int[3]));
        var targets = Assert.Throws<ArgumentException>(() => Dataset.FromArrays(features, new float[1][]));

        Assert.Equal("labels", labels.ParamName);
        Assert.Contains("2 rows", labels.Message);
        Assert.Equal("targets", targets.ParamName);
    }
}
