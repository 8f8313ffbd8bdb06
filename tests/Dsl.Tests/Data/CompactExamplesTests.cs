namespace Kiln.Tests.Data;

/// <summary>
/// Examples read from IDX files stay bytes through the pipeline and get their floats in Batch: the same bits as
/// float copies, no float copy held anywhere, and float features wherever user code looks.
/// </summary>
public class CompactExamplesTests
{
    private static readonly MnistData Embedded = Datasets.Mnist();

    // The example's pipeline: inverted twins, cached, shuffled over the whole set, batched.
    private static Dataset<Batch> Workshop(Dataset<Example> train) =>
        train.Concatenate(train.Map(Datasets.Invert)).Cache().Shuffle(16_000, seed: 3).Batch(128);

    [Fact]
    public void Batches_of_byte_examples_hold_the_bits_of_batches_of_their_float_copies()
    {
        var floats = Dataset.From(Embedded.Train.ToList());
        Assert.All(floats.Take(3), e => Assert.Equal(784, e.Features.Length));
        var fromBytes = Workshop(Embedded.Train);
        var fromFloats = Workshop(floats);

        for (var pass = 0; pass < 2; pass++)
        {
            var expected = fromFloats.ToList();
            var actual = fromBytes.ToList();
            Assert.Equal(expected.Count, actual.Count);
            for (var b = 0; b < expected.Count; b++)
            {
                Assert.Equal(expected[b].Labels, actual[b].Labels);
                Assert.Equal(expected[b].Features, actual[b].Features);
            }
        }
    }

    [Fact]
    public void The_cached_pipeline_over_byte_examples_allocates_no_float_copy_of_the_set()
    {
        var pipeline = Workshop(Embedded.Train);
        // 16,000 images as floats: what the pipeline held before it kept bytes.
        const long floatCopy = 16_000L * 784 * sizeof(float);

        var first = Allocated(pipeline);
        var second = Allocated(pipeline);

        Assert.True(first < floatCopy / 10, $"the first pass (filling the cache) allocated {first:N0} bytes; a float copy is {floatCopy:N0}");
        Assert.True(second < floatCopy / 20, $"a pass from the cache allocated {second:N0} bytes");
    }

    [Fact]
    public void User_code_sees_float_features_from_every_operator()
    {
        var test = Embedded.Test;
        var pixels = test.Take(40).Select(e => e.Features).ToList();
        Assert.All(pixels, p => Assert.Equal(784, p.Length));

        Dataset<Example>[] views =
        [
            test.Take(40),
            test.Cache().Take(40),
            test.Shuffle(1).Take(40),
            test.Concatenate(test).Take(40),
            test.Repeat().Take(40),
            test.Skip(0).Take(40),
            test.Take(40).Prefetch(),
            test.Map(e => e with { Label = e.Label }).Take(40),
        ];
        foreach (var view in views)
        {
            Assert.Equal(pixels, view.Select(e => e.Features));
        }
        // A selector is the user's code: it reads floats.
        Assert.Equal(pixels.Select(p => p.Sum()), test.Take(40).Map(e => e.Features.Sum()));
        Assert.Equal(pixels.Select(p => p.Select(v => 1f - v)), test.Take(40).Map(Datasets.Invert).Select(e => e.Features));
        var (train, held) = test.Split(0.5, seed: 2);
        Assert.All(train.Concatenate(held), e => Assert.Equal(784, e.Features.Length));
        Assert.Equal(test.Select(e => e.Features.Sum()).Order(), train.Concatenate(held).Select(e => e.Features.Sum()).Order());
    }

    // One pass as Fit makes it, giving each batch back after use.
    private static long Allocated(Dataset<Batch> pipeline)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var batch in pipeline)
        {
            BatchPool.Recycle(batch);
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
