namespace Kiln.Tests.Losses;

public class WeightTests
{
    [Fact]
    public void Sample_weights_scale_each_examples_loss_and_gradient_over_the_batch_size()
    {
        using var net = new LogisticNet(seed: 4);
        net.SetParameters([0.9f, -1.7f, 0.4f, 0.25f]);
        var batch = LossData.Batch(3, 1, 6, seed: 14, LossData.Bit);
        float[] w = [1f, 0.5f, 2f, 0f, 3f, 1.25f];
        batch.SampleWeights = w;

        var gradient = LossData.Gradient(net, batch, out var loss);

        // Keras' sum_over_batch_size: Σ w·loss / batch, not / Σ w.
        double[] kernel = [0.9, -1.7, 0.4];
        var (expectedLoss, expected) = (0.0, new double[4]);
        for (var b = 0; b < batch.Count; b++)
        {
            var z = 0.25 + Enumerable.Range(0, 3).Sum(j => kernel[j] * batch.Features[b * 3 + j]);
            var t = batch.Targets![b];
            expectedLoss += w[b] * (Math.Max(z, 0) - z * t + Math.Log(1 + Math.Exp(-Math.Abs(z))));
            var dz = w[b] * (LossData.Sigmoid(z) - t) / batch.Count;
            for (var j = 0; j < 3; j++)
            {
                expected[j] += dz * batch.Features[b * 3 + j];
            }
            expected[3] += dz;
        }
        Assert.Equal(expectedLoss / batch.Count, loss, 6);
        for (var i = 0; i < 4; i++)
        {
            Assert.True(Math.Abs(expected[i] - gradient[i]) < 1e-6, $"parameter {i}: {gradient[i]} against {expected[i]}");
        }
        // Evaluate weighs the same way.
        Assert.Equal(expectedLoss / batch.Count, net.Evaluate(Dataset.From([batch])).Loss, 6);
    }

    [Fact]
    public void All_ones_weights_give_the_unweighted_bits()
    {
        using var plain = new BinaryNet(seed: 3);
        using var ones = new BinaryNet(seed: 3);
        var unweighted = LossData.Batch(2, 1, 8, seed: 15, LossData.Bit);
        var weighted = LossData.Batch(2, 1, 8, seed: 15, LossData.Bit);
        weighted.SampleWeights = [.. Enumerable.Repeat(1f, 8)];
        var adam = (new Adam(), new Adam());

        for (var step = 0; step < 3; step++)
        {
            var a = plain.TrainOnBatch(unweighted, adam.Item1);
            var b = ones.TrainOnBatch(weighted, adam.Item2);
            Assert.Equal(BitConverter.DoubleToInt64Bits(a.Loss), BitConverter.DoubleToInt64Bits(b.Loss));
        }
        Assert.Equal(plain.GetParameters(), ones.GetParameters());
    }

    [Fact]
    public void Class_weights_of_one_give_the_unweighted_bits_through_fit()
    {
        var data = Dataset.From([.. Enumerable.Range(0, 48).Select(i => new Example([i % 5 * 0.3f, i % 7 * -0.2f, i % 3 * 0.5f], i % 3))]);
        using var plain = new ClassifierNet(seed: 2);
        using var weighted = new ClassifierNet(seed: 2);

        var h1 = plain.Fit(data.Batch(16), epochs: 3, options: new FitOptions { Verbose = false });
        var h2 = weighted.Fit(data.Batch(16), epochs: 3, options: new FitOptions { Verbose = false, ClassWeight = new Dictionary<int, float> { [0] = 1f, [1] = 1f, [2] = 1f } });

        Assert.Equal(h1.Loss, h2.Loss);
        Assert.Equal(plain.GetParameters(), weighted.GetParameters());
    }

    [Fact]
    public void Class_weight_three_equals_repeating_the_class_thrice_in_the_batch()
    {
        var batch = LossData.Batch(2, 1, 10, seed: 16, LossData.Bit);
        batch.Targets = [1f, 0f, 0f, 1f, 0f, 1f, 0f, 0f, 1f, 0f];
        var positives = Enumerable.Range(0, batch.Count).Where(b => batch.Targets[b] == 1f).ToArray();
        // The same batch with each positive example three times.
        var rows = Enumerable.Range(0, batch.Count).Concat(positives).Concat(positives).ToArray();
        var repeated = new Batch
        {
            Features = [.. rows.SelectMany(b => batch.Features.AsSpan(b * 2, 2).ToArray())],
            Targets = [.. rows.Select(b => batch.Targets![b])],
            Labels = new int[rows.Length],
            Count = rows.Length,
            FeatureSize = 2,
            TargetSize = 1,
        };

        using var net = new BinaryNet(seed: 5);
        var p0 = net.GetParameters();
        var history = net.Fit(Dataset.From([batch]), optimizer: new Sgd(learningRate: 1f),
            options: new FitOptions { Verbose = false, ClassWeight = new Dictionary<int, float> { [0] = 1f, [1] = 3f } });
        var weightedGradient = p0.Zip(net.GetParameters(), (a, b) => (double)a - b).ToArray();
        net.SetParameters(p0);
        var repeatedGradient = LossData.Gradient(net, repeated, out var repeatedLoss);

        // Both sum the same losses and gradients; Keras divides each by its own batch size.
        Assert.Equal(repeatedLoss * repeated.Count, history.Loss[0] * batch.Count, 5);
        for (var i = 0; i < p0.Length; i++)
        {
            var (w, r) = (weightedGradient[i] * batch.Count, repeatedGradient[i] * repeated.Count);
            Assert.True(Math.Abs(w - r) <= 1e-5 + 1e-4 * Math.Abs(r), $"parameter {i}: class-weighted {w}, repeated {r}");
        }
        Assert.True(weightedGradient.Count(g => Math.Abs(g) > 1e-6) > p0.Length / 2);
    }

    [Fact]
    public void Example_weights_reach_the_batch_only_where_some_example_is_weighted()
    {
        var examples = Dataset.From([.. Enumerable.Range(0, 5).Select(i => new Example([i], Target: [i % 2]))]);

        var weighted = examples.WithSampleWeights(e => e.Features[0] == 3 ? 2.5f : 1f).Batch(2).Select(b => b.SampleWeights?.ToArray()).ToList();
        var plain = examples.Batch(2).Select(b => b.SampleWeights).ToList();

        Assert.Equal([null, [1f, 2.5f], null], weighted);
        Assert.All(plain, Assert.Null);
    }

    [Fact]
    public void Bad_weights_and_combinations_are_refused_before_training()
    {
        using var binary = new BinaryNet(seed: 1);
        var batch = LossData.Batch(2, 1, 3, seed: 17, LossData.Bit);
        var p0 = binary.GetParameters();
        batch.SampleWeights = [1f, -1f, 1f];
        Assert.Equal("TrainOnBatch: example 1 has sample weight -1; weights must be finite and non-negative.",
            Assert.Throws<InvalidDataException>(() => binary.TrainOnBatch(batch)).Message);
        batch.SampleWeights = [1f, 2f, 1f];
        var both = Assert.Throws<ArgumentException>(() => binary.Fit(Dataset.From([batch]), options: new FitOptions { Verbose = false, ClassWeight = new Dictionary<int, float> { [1] = 2f } }));
        Assert.StartsWith("FitOptions.ClassWeight cannot be combined with per-example weights", both.Message);
        Assert.Throws<ArgumentException>(() => binary.Fit(Dataset.From([batch]), options: new FitOptions { Verbose = false, ClassWeight = new Dictionary<int, float> { [1] = float.NaN } }));
        Assert.Equal(p0, binary.GetParameters());

        using var regression = new RegressionNet(seed: 1);
        var e = Assert.Throws<ArgumentException>(() => regression.Fit(Dataset.From([LossData.Batch(3, 2, 2, seed: 1, r => r.NextSingle())]),
            options: new FitOptions { Verbose = false, ClassWeight = new Dictionary<int, float> { [0] = 2f } }));
        Assert.StartsWith("ClassWeight needs a classification loss, but RegressionNet is a regression", e.Message);
    }
}
