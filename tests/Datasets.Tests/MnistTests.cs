namespace Kiln.EmbeddedData.Tests;

/// <summary>The embedded MNIST subset of Kiln.Datasets: its content, and that it is data/mnist-10k read by the core's loader.</summary>
public class MnistTests
{
    private static readonly MnistData Embedded = Datasets.Mnist();

    [Fact]
    public void Mnist_Embedded_Has8000TrainAnd2000TestDigits()
    {
        Assert.Equal(8000, Embedded.Train.Count);
        Assert.Equal(2000, Embedded.Test.Count);
        Assert.Equal(8000, Embedded.Train.Count());
        Assert.Equal(2000, Embedded.Test.Count());
    }

    [Fact]
    public void Mnist_Embedded_PixelsLieIn01_WithInkAndBackground()
    {
        var pixels = Embedded.Test.SelectMany(e => e.Features).ToList();

        Assert.All(Embedded.Test, e => Assert.Equal(784, e.Features.Length));
        Assert.Equal(0f, pixels.Min());
        Assert.Equal(1f, pixels.Max());
        // White digits on black: most of each image is background.
        Assert.InRange(pixels.Average(), 0.05, 0.25);
    }

    [Fact]
    public void Mnist_Embedded_LabelHistogramIsPlausible()
    {
        var train = Embedded.Train.GroupBy(e => e.Label).ToDictionary(g => g.Key, g => g.Count());
        var test = Embedded.Test.GroupBy(e => e.Label).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(Enumerable.Range(0, 10), train.Keys.Order());
        Assert.Equal(Enumerable.Range(0, 10), test.Keys.Order());
        Assert.All(train.Values, count => Assert.InRange(count, 501, 1100));
        Assert.All(test.Values, count => Assert.InRange(count, 125, 275));
    }

    [Fact]
    public void Mnist_Embedded_IsTheRepositorysFiles()
    {
        var files = Datasets.Mnist(Path.Combine(IrisTests.RepoRoot(), "data", "mnist-10k"));

        foreach (var (embedded, file) in new[] { (Embedded.Train, files.Train), (Embedded.Test, files.Test) })
        {
            Assert.Equal(file.Count, embedded.Count);
            Assert.All(file.Zip(embedded), pair =>
            {
                Assert.Equal(pair.First.Label, pair.Second.Label);
                Assert.Equal(pair.First.Features, pair.Second.Features);
            });
        }
    }
}
