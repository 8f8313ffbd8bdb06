namespace Kiln.Tests.Data;

public class ShuffleTests
{
    private static readonly int[] Numbers = [.. Enumerable.Range(0, 100)];

    [Fact]
    public void Shuffle_IsAPermutation()
    {
        var shuffled = Dataset.From(Numbers).Shuffle(1000, seed: 3).ToList();

        Assert.Equal(Numbers, shuffled.Order());
        Assert.NotEqual(Numbers, shuffled);
    }

    [Fact]
    public void Shuffle_SameSeed_SameOrder()
    {
        var first = Dataset.From(Numbers).Shuffle(1000, seed: 7).ToList();
        var second = Dataset.From(Numbers).Shuffle(1000, seed: 7).ToList();

        Assert.Equal(first, second);
    }

    [Fact]
    public void Shuffle_DifferentSeeds_DifferentOrders()
    {
        var first = Dataset.From(Numbers).Shuffle(1000, seed: 1).ToList();
        var second = Dataset.From(Numbers).Shuffle(1000, seed: 2).ToList();

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Shuffle_EachEnumeration_Reshuffles_AndTheEpochSequenceRepeats()
    {
        var shuffled = Dataset.From(Numbers).Shuffle(1000, seed: 5);
        var epochs = Enumerable.Range(0, 3).Select(_ => shuffled.ToList()).ToList();
        var again = Dataset.From(Numbers).Shuffle(1000, seed: 5);
        var replay = Enumerable.Range(0, 3).Select(_ => again.ToList()).ToList();

        Assert.NotEqual(epochs[0], epochs[1]);
        Assert.NotEqual(epochs[1], epochs[2]);
        Assert.Equal(epochs, replay);
    }

    [Fact]
    public void Shuffle_BufferOfOne_KeepsTheOrder()
    {
        Assert.Equal(Numbers, Dataset.From(Numbers).Shuffle(1, seed: 9));
    }

    [Fact]
    public void Shuffle_SmallBuffer_NeverEmitsAnElementFromBeyondTheBuffer()
    {
        const int buffer = 10;
        var shuffled = Dataset.From(Numbers).Shuffle(buffer, seed: 4).ToList();

        Assert.Equal(Numbers, shuffled.Order());
        for (var position = 0; position < shuffled.Count; position++)
        {
            Assert.True(shuffled[position] < position + buffer, $"{shuffled[position]} emitted at position {position}");
        }
        // Mixed while streaming, not only while draining the buffer at the end.
        Assert.NotEqual(Numbers[..50], shuffled[..50]);
    }

    [Fact]
    public void Shuffle_OfARepeatedDataset_StreamsAndKeepsEveryPassComplete()
    {
        var shuffled = Dataset.From(Numbers).Repeat().Shuffle(10, seed: 1);

        Assert.True(shuffled.IsInfinite);
        Assert.Null(shuffled.Count);
        var items = shuffled.Take(1000).ToList();
        Assert.Equal(1000, items.Count);
        Assert.All(Enumerable.Range(0, 100), n => Assert.InRange(items.Count(x => x == n), 9, 11));
    }

    [Fact]
    public void Shuffle_KeepsTheCount()
    {
        Assert.Equal(100, Dataset.From(Numbers).Shuffle(8).Count);
    }
}
