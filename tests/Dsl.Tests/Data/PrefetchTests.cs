namespace Kiln.Tests.Data;

public class PrefetchTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(64)]
    public void Prefetch_YieldsTheSameSequence(int bufferSize)
    {
        var source = new ProbeDataset(count: 1000);

        Assert.Equal(Enumerable.Range(0, 1000), source.Prefetch(bufferSize));
        Assert.Equal(1000, source.Prefetch(bufferSize).Count);
    }

    [Fact]
    public void Prefetch_ProducesOnAnotherThread()
    {
        var source = new ProbeDataset(count: 3);

        Assert.Equal([0, 1, 2], source.Prefetch());
        Assert.NotSame(Thread.CurrentThread, source.LastThread);
    }

    [Fact]
    public void Prefetch_PropagatesTheProducersException_AfterTheElementsBeforeIt()
    {
        var source = new ProbeDataset(count: 10, throwAt: 5);
        var seen = new List<int>();

        var error = Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (var item in source.Prefetch(3))
            {
                seen.Add(item);
            }
        });

        Assert.Equal("probe failed at 5", error.Message);
        Assert.Equal([0, 1, 2, 3, 4], seen);
    }

    [Fact]
    public void Prefetch_DisposingEarly_StopsTheProducerAndDisposesTheSource()
    {
        var source = new ProbeDataset(count: null);
        var enumerator = source.Prefetch(4).GetEnumerator();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(enumerator.MoveNext());
            Assert.Equal(i, enumerator.Current);
        }
        var producer = source.LastThread!;

        enumerator.Dispose();

        Assert.Equal(1, source.Disposals);
        Assert.False(producer.IsAlive);
        Assert.Throws<ObjectDisposedException>(() => enumerator.MoveNext());
    }

    [Fact]
    public void Prefetch_DisposedBeforeUse_StartsNothing()
    {
        var source = new ProbeDataset(count: null);

        source.Prefetch().GetEnumerator().Dispose();

        Assert.Equal(0, source.Passes);
    }
}
