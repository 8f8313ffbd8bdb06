namespace Kiln.Tests.Data;

public class PipelineTests
{
    private static Dataset<int> Range(int count) => Dataset.From(Enumerable.Range(0, count).ToArray());

    [Fact]
    public void From_ReportsCountAndFiniteness()
    {
        var data = Range(5);

        Assert.Equal(5, data.Count);
        Assert.False(data.IsInfinite);
        Assert.Equal([0, 1, 2, 3, 4], data);
    }

    [Fact]
    public void Repeat_WithCount_RepeatsInOrder()
    {
        var repeated = Range(3).Repeat(3);

        Assert.Equal([0, 1, 2, 0, 1, 2, 0, 1, 2], repeated);
        Assert.Equal(9, repeated.Count);
        Assert.False(repeated.IsInfinite);
    }

    [Fact]
    public void Repeat_WithoutCount_IsInfinite_AndTakeEndsIt()
    {
        var repeated = Range(3).Repeat();
        var taken = repeated.Take(7);

        Assert.True(repeated.IsInfinite);
        Assert.Null(repeated.Count);
        Assert.False(taken.IsInfinite);
        Assert.Equal(7, taken.Count);
        Assert.Equal([0, 1, 2, 0, 1, 2, 0], taken);
    }

    [Fact]
    public void Repeat_OfAnEmptyDataset_Ends()
    {
        var repeated = Range(0).Repeat();

        Assert.Empty(repeated);
        Assert.Equal(0, repeated.Count);
        Assert.False(repeated.IsInfinite);
    }

    [Fact]
    public void Repeat_Zero_IsEmpty()
    {
        Assert.Empty(Range(3).Repeat(0));
        Assert.Equal(0, Range(3).Repeat(0).Count);
    }

    [Fact]
    public void SkipThenTake_SelectsAWindow()
    {
        var window = Range(10).Skip(2).Take(3);

        Assert.Equal([2, 3, 4], window);
        Assert.Equal(3, window.Count);
    }

    [Fact]
    public void TakeAndSkip_BeyondTheEnd_ClampTheCount()
    {
        Assert.Equal(10, Range(10).Take(50).Count);
        Assert.Equal(10, Range(10).Take(50).Count());
        Assert.Equal(0, Range(10).Skip(50).Count);
        Assert.Empty(Range(10).Skip(50));
    }

    [Fact]
    public void Take_StopsWithoutPullingAnotherElement()
    {
        var probe = new ProbeDataset(count: null, throwAt: 3);

        Assert.Equal([0, 1, 2], probe.Take(3));
    }

    [Fact]
    public void Skip_OfAnInfiniteDataset_StaysInfinite()
    {
        var skipped = Range(3).Repeat().Skip(4);

        Assert.True(skipped.IsInfinite);
        Assert.Equal([1, 2, 0], skipped.Take(3));
    }

    [Fact]
    public void Concatenate_AppendsInOrder_AndAddsCounts()
    {
        var joined = Range(2).Concatenate(Range(3).Map(x => x + 5));

        Assert.Equal([0, 1, 5, 6, 7], joined);
        Assert.Equal(5, joined.Count);
        Assert.True(Range(2).Concatenate(Range(1).Repeat()).IsInfinite);
        Assert.Null(Range(2).Concatenate(Range(1).Repeat()).Count);
    }

    [Fact]
    public void Map_AppliesLazilyOnEachPass()
    {
        var calls = 0;
        var mapped = Range(4).Map(x => { calls++; return x * 10; });

        Assert.Equal(0, calls);
        Assert.Equal([0, 10, 20, 30], mapped);
        Assert.Equal([0, 10, 20, 30], mapped);
        Assert.Equal(8, calls);
        Assert.Equal(4, mapped.Count);
    }

    [Fact]
    public void Operators_RejectBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Range(3).Shuffle(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Range(3).Repeat(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Range(3).Take(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Range(3).Skip(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Range(3).Prefetch(0));
    }
}
