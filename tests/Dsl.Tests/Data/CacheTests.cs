namespace Kiln.Tests.Data;

public class CacheTests
{
    [Fact]
    public void Cache_EnumeratesTheSourceOnce()
    {
        var probe = new ProbeDataset(count: 5);
        var cached = probe.Cache();

        Assert.Equal([0, 1, 2, 3, 4], cached);
        Assert.Equal([0, 1, 2, 3, 4], cached);
        Assert.Equal([0, 1, 2, 3, 4], cached);
        Assert.Equal(1, probe.Passes);
        Assert.Equal(5, cached.Count);
    }

    [Fact]
    public void Cache_AnIncompletePass_CachesNothing()
    {
        var probe = new ProbeDataset(count: 5);
        var cached = probe.Cache();

        Assert.Equal([0, 1], cached.Take(2));
        Assert.Equal([0, 1, 2, 3, 4], cached);
        Assert.Equal([0, 1, 2, 3, 4], cached);
        Assert.Equal(2, probe.Passes);
    }

    [Fact]
    public void Cache_BeforeShuffle_StillReshufflesEachEpoch()
    {
        var probe = new ProbeDataset(count: 50);
        var shuffled = probe.Cache().Shuffle(100, seed: 1);

        var first = shuffled.ToList();
        var second = shuffled.ToList();

        Assert.NotEqual(first, second);
        Assert.Equal(1, probe.Passes);
    }
}
