namespace Kiln.Tests.Layers;

/// <summary>Normalises three features; the identity-initialised Dense head makes the layer's output observable.</summary>
[Network(Loss = Loss.MeanSquaredError)]
[Input(3)]
[BatchNormalization(momentum: 0.75, epsilon: 0.01)]
[Dense(3)]
public partial class BatchNormProbe;

[Network(Loss = Loss.MeanSquaredError)]
[Input(4, 4, 1)]
[Conv2D(1, 3, Padding.Valid, Activation.Tanh)]
[Flatten]
public partial class FlattenHeadNet;

/// <summary>BatchNormalization's statistics as Keras keeps them, its tensors, and how it is saved.</summary>
public class BatchNormalizationTests
{
    private static readonly float[][] Rows = [[1f, -2f, 0.5f], [3f, 0f, 0.25f], [-1f, 4f, 2f], [5f, 1f, -1f]];

    private static Batch Batch() => new()
    {
        Features = Rows.SelectMany(r => r).ToArray(),
        Targets = new float[Rows.Length * 3],
        Labels = new int[Rows.Length],
        Count = Rows.Length,
        FeatureSize = 3,
        TargetSize = 3,
    };

    /// <summary>The probe with an identity Dense kernel, so Predict returns the normalised features.</summary>
    private static BatchNormProbe Probe()
    {
        var net = new BatchNormProbe(seed: 1);
        var p = net.GetParameters();
        var kernel = net.Info.Parameters.Single(t => t.Name == "dense.kernel");
        Array.Clear(p, kernel.Offset, kernel.Length);
        for (var i = 0; i < 3; i++)
        {
            p[kernel.Offset + i * 3 + i] = 1f;
        }
        net.SetParameters(p);
        return net;
    }

    [Fact]
    public void Tensors_follow_keras_names_and_order_with_the_moving_statistics_last_and_frozen()
    {
        using var net = new BatchNormProbe();
        Assert.Equal(
            ["batch_normalization.gamma", "batch_normalization.beta", "dense.kernel", "dense.bias", "batch_normalization.moving_mean", "batch_normalization.moving_variance"],
            net.Info.Parameters.Select(p => p.Name));
        Assert.Equal([true, true, true, true, false, false], net.Info.Parameters.Select(p => p.Trainable));
        Assert.Equal(3 + 3 + 9 + 3, net.Info.TrainableParameterCount);
        var p = net.GetParameters();
        Assert.All(net.Info.Parameters.Where(t => t.Name.EndsWith("gamma") || t.Name.EndsWith("variance")), t => Assert.All(p.AsSpan(t.Offset, t.Length).ToArray(), v => Assert.Equal(1f, v)));
        Assert.Contains("Non-trainable params: 6 (24.00 B)", BatchNormProbe.Summary);
    }

    [Fact]
    public void A_training_step_moves_the_moving_statistics_by_kerass_momentum_with_the_biased_variance()
    {
        using var net = Probe();
        net.TrainOnBatch(Batch(), new Sgd(learningRate: 1e-30f));

        var p = net.GetParameters();
        var mean = net.Info.Parameters.Single(t => t.Name == "batch_normalization.moving_mean");
        var variance = net.Info.Parameters.Single(t => t.Name == "batch_normalization.moving_variance");
        for (var c = 0; c < 3; c++)
        {
            var column = Rows.Select(r => (double)r[c]).ToArray();
            var m = column.Average();
            var v = column.Select(x => (x - m) * (x - m)).Average();
            Assert.Equal(0.25 * m, p[mean.Offset + c], 5);
            Assert.Equal(0.75 + 0.25 * v, p[variance.Offset + c], 5);
        }
    }

    [Fact]
    public void Predict_normalises_with_the_moving_statistics_and_training_with_the_batchs()
    {
        using var net = Probe();
        net.TrainOnBatch(Batch(), new Sgd(learningRate: 1e-30f));
        var p = net.GetParameters();
        var mean = net.Info.Parameters.Single(t => t.Name == "batch_normalization.moving_mean").Offset;
        var variance = net.Info.Parameters.Single(t => t.Name == "batch_normalization.moving_variance").Offset;

        var y = net.Predict(Rows[0]);
        for (var c = 0; c < 3; c++)
        {
            var expected = (Rows[0][c] - p[mean + c]) / Math.Sqrt(p[variance + c] + 0.01);
            Assert.Equal(expected, y[c], 5);
        }
    }

    [Fact]
    public void Saved_weights_carry_the_moving_statistics_and_load_into_a_fresh_network()
    {
        using var net = Probe();
        for (var i = 0; i < 3; i++)
        {
            net.TrainOnBatch(Batch(), new Adam(learningRate: 0.1f));
        }
        var path = Path.Combine(Path.GetTempPath(), $"kiln-bn-{Guid.NewGuid():N}.safetensors");
        try
        {
            net.Save(path);
            using var copy = new BatchNormProbe(seed: 9);
            copy.Load(path);
            Assert.Equal(net.GetParameters(), copy.GetParameters());
            Assert.Equal(net.Predict(Rows[2]), copy.Predict(Rows[2]));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_network_ending_in_flatten_trains()
    {
        using var net = new FlattenHeadNet(seed: 4);
        var random = new Random(1);
        var batch = new Batch
        {
            Features = Enumerable.Range(0, 8 * 16).Select(_ => random.NextSingle()).ToArray(),
            Targets = Enumerable.Range(0, 8 * 4).Select(_ => random.NextSingle() - 0.5f).ToArray(),
            Labels = new int[8],
            Count = 8,
            FeatureSize = 16,
            TargetSize = 4,
        };
        var first = net.TrainOnBatch(batch, new Adam(learningRate: 0.05f)).Loss;
        var last = first;
        for (var i = 0; i < 50; i++)
        {
            last = net.TrainOnBatch(batch).Loss;
        }
        Assert.True(last < first / 2, $"loss {first} → {last}");
    }
}
