namespace Kiln.Tests.Data;

public class SplitTests
{
    private static Dataset<Example> Unbalanced()
    {
        // 7 of class 0, 13 of class 1, 30 of class 2.
        int[] labels = [.. Enumerable.Repeat(0, 7), .. Enumerable.Repeat(1, 13), .. Enumerable.Repeat(2, 30)];
        return Dataset.FromArrays([.. labels.Select((l, i) => new[] { (float)i })], labels);
    }

    [Theory]
    [InlineData(0.3, 0)]
    [InlineData(0.25, 1)]
    [InlineData(0.5, 2)]
    public void Split_IsStratified_Disjoint_AndComplete(double fraction, int seed)
    {
        var all = Unbalanced().ToList();

        var (train, test) = Unbalanced().Split(fraction, seed);
        var trainList = train.ToList();
        var testList = test.ToList();

        Assert.Equal((int)Math.Ceiling(all.Count * fraction), testList.Count);
        Assert.Equal(all.Count - testList.Count, trainList.Count);
        Assert.Equal(trainList.Count, train.Count);
        Assert.Equal(testList.Count, test.Count);
        foreach (var label in new[] { 0, 1, 2 })
        {
            var inClass = all.Count(e => e.Label == label);
            Assert.InRange(testList.Count(e => e.Label == label), inClass * fraction - 1, inClass * fraction + 1);
        }
        var ids = trainList.Concat(testList).Select(e => e.Features[0]).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(all.Select(e => e.Features[0]).Order(), ids.Order());
    }

    [Fact]
    public void Split_SameSeed_SameSplit_DifferentSeed_DifferentSplit()
    {
        static float[] TestIds(int seed) => [.. Unbalanced().Split(0.3, seed).Test.Select(e => e.Features[0])];

        Assert.Equal(TestIds(4), TestIds(4));
        Assert.NotEqual(TestIds(4).Order(), TestIds(5).Order());
    }

    [Fact]
    public void Split_Iris_Gives30TestFlowers_TenPerSpecies()
    {
        var (train, test) = Datasets.Iris().Split(0.2, seed: 1);

        Assert.Equal(120, train.Count);
        Assert.Equal(30, test.Count);
        Assert.All(test.GroupBy(e => e.Label), g => Assert.Equal(10, g.Count()));
    }

    [Fact]
    public void Split_ShufflesTheClassesTogether()
    {
        var (train, _) = Datasets.Iris().Split(0.2, seed: 1);

        Assert.NotEqual(train.Select(e => e.Label).Order(), train.Select(e => e.Label));
    }

    [Fact]
    public void Split_RejectsInfiniteSourcesAndBadFractions()
    {
        Assert.Throws<ArgumentException>(() => Unbalanced().Repeat().Split(0.2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Unbalanced().Split(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Unbalanced().Split(1));
    }
}
