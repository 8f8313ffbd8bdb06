using Kiln.Tests.IO;
using Kiln.Tests.Training;
using TrainingData = Kiln.Tests.Training.Data;

namespace Kiln.Tests.Safety;

/// <summary>
/// A diverged network must not overwrite a good checkpoint, NaN weights must not load silently, and Fit must leave
/// the network at its last finite epoch. Before: the NaN weights stayed in memory and Save wrote them over the file.
/// </summary>
public sealed class NonFiniteWeightsTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Save_refuses_NaN_weights_naming_the_tensor_and_keeps_the_good_file()
    {
        using var net = new XorNet(seed: 1);
        var path = _directory.File("xor.safetensors");
        net.Save(path);
        var good = File.ReadAllBytes(path);
        var values = net.GetParameters();
        values[net.Info.Parameters[2].Offset + 5] = float.NaN;
        net.SetParameters(values);

        var error = Assert.Throws<InvalidOperationException>(() => net.Save(path));

        Assert.Contains("'dense_1.kernel' holds 1 non-finite of 16 values, the first NaN at element 5", error.Message);
        Assert.Equal(good, File.ReadAllBytes(path));
        net.Save(path, allowNonFinite: true);
        Assert.NotEqual(good, File.ReadAllBytes(path));
    }

    [Fact]
    public void Load_refuses_infinite_weights_naming_the_file_and_tensor_unless_allowed()
    {
        using var net = new XorNet(seed: 1);
        var values = net.GetParameters();
        values[net.Info.Parameters[1].Offset + 2] = float.PositiveInfinity;
        values[net.Info.Parameters[1].Offset + 3] = float.NaN;
        net.SetParameters(values);
        var path = _directory.File("bad.safetensors");
        net.Save(path, allowNonFinite: true);
        using var other = new XorNet(seed: 2);
        var before = other.GetParameters();

        var error = Assert.Throws<InvalidDataException>(() => other.Load(path));

        Assert.Contains(path, error.Message);
        Assert.Contains($"'dense.bias' holds 2 non-finite of 16 values, the first {float.PositiveInfinity} at element 2", error.Message);
        Assert.Equal(before, other.GetParameters());
        other.Load(path, allowNonFinite: true);
        Assert.Equal(values, other.GetParameters());
    }

    [Fact]
    public void Fit_rolls_back_to_the_last_finite_epoch_when_the_weights_diverge()
    {
        // Epoch 1 trains on Iris; epoch 2 meets features of 1e18, whose gradients push the weights to infinity
        // before a loss is NaN: the state the issue saw (24 of 33 weights NaN).
        var normal = TrainingData.Iris().Train.Batch(16).ToList();
        var huge = normal.Select(b => new Batch
        {
            Features = [.. b.Features.Select(f => f * 1e18f)], Labels = b.Labels, Count = b.Count, FeatureSize = b.FeatureSize,
        });
        var stream = Dataset.From([.. normal, .. huge]);
        using var net = new IrisNet(seed: 2);

        var error = Assert.Throws<TrainingException>(() => net.Fit(stream, epochs: 2, stepsPerEpoch: normal.Count, optimizer: new Sgd(0.1f), options: TrainingData.Quiet));

        Assert.Contains("epoch 2", error.Message);
        Assert.Contains("restored to those after epoch 1", error.Message);
        using var replay = new IrisNet(seed: 2);
        replay.Fit(Dataset.From([.. normal]), epochs: 1, optimizer: new Sgd(0.1f), options: TrainingData.Quiet);
        Assert.Equal(replay.GetParameters(), net.GetParameters());
        net.Save(_directory.File("restored.safetensors"));
    }
}
