namespace Kiln.Tests.Mnist;

/// <summary>The MNIST half of the workshop, end to end on the embedded subset, built as examples/Mnist builds it.</summary>
public class MnistPipelineTests
{
    private static readonly MnistData Data = Datasets.Mnist();

    [Fact]
    public void One_epoch_reaches_ninety_percent_on_the_test_digits()
    {
        using var net = new MnistCnn(seed: 1);
        var train = Data.Train.Cache().Shuffle((int)Data.Train.Count!.Value, seed: 1).Batch(128).Prefetch();

        var history = net.Fit(train, epochs: 1, options: new FitOptions { Verbose = false });
        var test = net.Evaluate(Data.Test.Batch(512));

        // PyTorch reaches 0.903 with the same network, optimiser and batch size (data/README.md).
        Assert.True(test.Accuracy >= 0.90, $"test accuracy {test.Accuracy:0.0000} after one epoch (training accuracy {history.Accuracy[0]:0.0000})");
        Assert.Equal(2_000, test.Count);
        Assert.Equal(63, history.Epochs[0].Steps);
    }

    [Fact]
    public void Augmentation_doubles_the_set_with_exact_inverted_twins()
    {
        var train = Data.Train;
        // Copies taken first, so that an Invert that wrote into the shared arrays would be caught.
        var pixels = train.Select(e => (float[])e.Features.Clone()).ToList();
        var labels = train.Select(e => e.Label).ToList();

        var augmented = train.Concatenate(train.Map(Datasets.Invert));
        var all = augmented.ToList();

        Assert.Equal(8_000, pixels.Count);
        Assert.Equal(16_000, augmented.Count);
        Assert.Equal(16_000, all.Count);
        for (var i = 0; i < pixels.Count; i++)
        {
            var original = all[i];
            var twin = all[pixels.Count + i];
            Assert.Equal(labels[i], original.Label);
            Assert.Equal(labels[i], twin.Label);
            Assert.Equal(pixels[i], original.Features);
            Assert.Equal(784, twin.Features.Length);
            for (var p = 0; p < 784; p++)
            {
                if (twin.Features[p] != 1f - pixels[i][p])
                {
                    Assert.Fail($"example {i}, pixel {p}: {pixels[i][p]} inverted to {twin.Features[p]}, expected exactly {1f - pixels[i][p]}");
                }
            }
        }
        Assert.Contains(all[8_000].Features, p => p == 1f);
    }
}
