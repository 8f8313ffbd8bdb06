namespace Kiln.Tests.Data.Augmentation;

/// <summary>Dataset.Augment: the same seed, epoch and example give the same bits on any number of threads.</summary>
public class AugmentDeterminismTests
{
    private static readonly ImageShape Shape = new(28, 28, 1);

    private static readonly ImageAugmentation[] All =
    [
        new RandomFlip(),
        new RandomRotation(0.1),
        new RandomZoom(0.2),
        new RandomTranslation(0.1, 0.1),
        new RandomBrightness(0.2),
        new RandomContrast(0.3),
        new GaussianNoise(0.05),
        new RandomGaussianBlur(0.5),
    ];

    private static Dataset<Example> Digits(int count)
    {
        var random = new Random(7);
        return Dataset.From(Enumerable.Range(0, count)
            .Select(i => new Example([.. Enumerable.Range(0, 784).Select(_ => (float)random.NextDouble())], i % 10)).ToArray());
    }

    private static float[][] Pass(IEnumerable<Example> examples) => [.. examples.Select(e => e.Features)];

    [Fact]
    public void The_images_do_not_depend_on_the_number_of_threads()
    {
        var source = Digits(300);

        var one = Pass(source.Augment(Shape, 11, maxThreads: 1, All));
        var two = Pass(source.Augment(Shape, 11, maxThreads: 2, All));
        var many = Pass(source.Augment(Shape, 11, All));
        var prefetched = Pass(source.Augment(Shape, 11, All).Batch(128).Prefetch().SelectMany(b =>
            Enumerable.Range(0, b.Count).Select(i => new Example(b.Features[(i * 784)..((i + 1) * 784)], b.Labels[i]))));

        Assert.Equal(one, two);
        Assert.Equal(one, many);
        Assert.Equal(one, prefetched);
    }

    [Fact]
    public void Each_epoch_draws_afresh_and_a_new_pipeline_repeats_the_epochs()
    {
        var source = Digits(20);
        var augmented = source.Augment(Shape, 3, All);
        var again = source.Augment(Shape, 3, All);

        var epoch0 = Pass(augmented);
        var epoch1 = Pass(augmented);

        Assert.NotEqual(epoch0, epoch1);
        Assert.Equal(epoch0, Pass(again));
        Assert.Equal(epoch1, Pass(again));
        Assert.NotEqual(epoch0, Pass(source.Augment(Shape, 4, All)));
    }

    [Fact]
    public void Labels_pass_through_and_the_source_is_untouched()
    {
        var source = Digits(10).Cache();
        var before = Pass(source);

        var augmented = source.Augment(Shape, 1, All).ToArray();

        Assert.Equal(Enumerable.Range(0, 10).Select(i => i % 10), augmented.Select(e => e.Label));
        Assert.Equal(before, Pass(source));
        Assert.All(augmented.Zip(before), pair => Assert.False(pair.First.Features.SequenceEqual(pair.Second)));
    }

    [Fact]
    public void A_wrongly_sized_example_is_refused_with_its_index()
    {
        var source = Dataset.From([new Example(new float[784]), new Example(new float[783])]);

        var error = Assert.Throws<InvalidDataException>(() => source.Augment(Shape, 1, All).ToArray());

        Assert.Contains("Example 1 has 783 features", error.Message);
    }
}
