using Kiln.Tests.IO;

namespace Kiln.Tests.Persistence;

public sealed class CheckpointTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static readonly (Dataset<Example> Train, Dataset<Example> Test) Iris = Datasets.Iris().Split(0.25, 1);

    private History Fit(IrisClassifier net, int epochs, string checkpoint, bool saveBestOnly, Optimizer? optimizer = null) =>
        net.Fit(Iris.Train.Repeat().Shuffle(1000, 1).Batch(16), epochs, stepsPerEpoch: 10, validation: Iris.Test.Batch(16), optimizer: optimizer,
            options: new FitOptions { Verbose = false, Callbacks = [new ModelCheckpoint(_directory.File(checkpoint), saveBestOnly: saveBestOnly)] });

    private double ValidationLossOf(string file)
    {
        using var net = new IrisClassifier(seed: 99);
        net.Load(_directory.File(file));
        return net.Evaluate(Iris.Test.Batch(16)).Loss;
    }

    private string[] Files() => [.. Directory.GetFiles(_directory.Path).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal)];

    [Fact]
    public void An_epoch_pattern_writes_one_file_per_epoch_with_that_epochs_weights()
    {
        using var net = new IrisClassifier(seed: 1);

        var history = Fit(net, epochs: 3, "iris-{epoch}.safetensors", saveBestOnly: false);

        Assert.Equal(["iris-1.safetensors", "iris-2.safetensors", "iris-3.safetensors"], Files());
        // Each file holds the weights validated at the end of its epoch.
        for (var epoch = 1; epoch <= 3; epoch++)
        {
            Assert.Equal(history.ValidationLoss[epoch - 1]!.Value, ValidationLossOf($"iris-{epoch}.safetensors"), 1e-12);
        }
        using var last = new IrisClassifier(seed: 99);
        last.Load(_directory.File("iris-3.safetensors"));
        Assert.Equal(net.GetParameters(), last.GetParameters());
    }

    [Fact]
    public void Save_best_only_writes_only_when_the_validation_loss_improves()
    {
        using var net = new IrisClassifier(seed: 1);

        // A learning rate this large makes the validation loss jump up and down.
        var history = Fit(net, epochs: 8, "iris-{epoch}.safetensors", saveBestOnly: true, new Sgd(learningRate: 2f));

        var best = double.PositiveInfinity;
        var improved = new List<string>();
        foreach (var epoch in history.Epochs)
        {
            if (epoch.ValidationLoss!.Value < best)
            {
                best = epoch.ValidationLoss.Value;
                improved.Add($"iris-{epoch.Epoch}.safetensors");
            }
        }
        Assert.True(improved.Count < history.Epochs.Count, $"the validation loss never went up: {string.Join(", ", history.ValidationLoss)}");
        Assert.Equal(improved.Order(StringComparer.Ordinal), Files());
    }

    [Fact]
    public void Save_best_only_to_one_path_keeps_the_best_epochs_weights()
    {
        using var net = new IrisClassifier(seed: 1);

        var history = Fit(net, epochs: 8, "best.safetensors", saveBestOnly: true, new Sgd(learningRate: 2f));

        var losses = history.ValidationLoss.Select(l => l!.Value).ToList();
        Assert.NotEqual(losses.Min(), losses[^1]);
        Assert.Equal(["best.safetensors"], Files());
        Assert.Equal(losses.Min(), ValidationLossOf("best.safetensors"), 1e-12);
    }
}
