namespace Kiln.Tests.Losses;

public class BinaryCrossentropyTests
{
    [Fact]
    public void A_sigmoid_head_learns_a_separable_problem_and_reports_binary_accuracy()
    {
        var train = LossData.Separable(256, seed: 1);
        var test = LossData.Separable(128, seed: 2);
        using var net = new BinaryNet(seed: 1);
        var before = net.Evaluate(test.Batch(32));

        var history = net.Fit(train.Shuffle(256, 3).Batch(16), epochs: 30, optimizer: new Adam(0.02f), options: new FitOptions { Verbose = false });

        var after = net.Evaluate(test.Batch(32));
        Assert.True(after.Accuracy >= 0.95, $"binary accuracy {before.Accuracy} → {after.Accuracy}");
        Assert.True(after.Loss < before.Loss / 3, $"loss {before.Loss} → {after.Loss}");
        Assert.True(history.Accuracy[^1] > history.Accuracy[0]);
        // Predictions are probabilities, and Evaluate's accuracy is the share of them on the target's side of 0.5.
        var outputs = net.Predict(test.Batch(32));
        var targets = test.Select(e => e.Target![0]).ToArray();
        Assert.All(outputs, p => Assert.InRange(p, 0f, 1f));
        Assert.Equal(targets.Where((t, i) => outputs[i] > 0.5f == t > 0.5f).Count() / (double)targets.Length, after.Accuracy);
        // The loss is Keras' binary crossentropy of those probabilities (targets are 0 or 1).
        var oracle = targets.Select((t, i) => -Math.Log(t == 1f ? outputs[i] : 1 - (double)outputs[i])).Average();
        Assert.Equal(oracle, after.Loss, 4);
    }

    [Fact]
    public void Loss_gradient_and_predictions_of_a_sigmoid_unit_match_float64()
    {
        using var net = new LogisticNet(seed: 4);
        net.SetParameters([0.9f, -1.7f, 0.4f, 0.25f]);
        // Logits up to about ±8, so both branches of the stable form and both saturations are exercised.
        var batch = LossData.Batch(3, 1, 7, seed: 5, LossData.Bit);
        for (var i = 0; i < batch.Features.Length; i++)
        {
            batch.Features[i] *= 3;
        }

        var gradient = LossData.Gradient(net, batch, out var loss);

        double[] kernel = [0.9, -1.7, 0.4];
        var (expectedLoss, expected) = (0.0, new double[4]);
        for (var b = 0; b < batch.Count; b++)
        {
            var z = 0.25 + Enumerable.Range(0, 3).Sum(j => kernel[j] * batch.Features[b * 3 + j]);
            var t = batch.Targets![b];
            expectedLoss += Math.Max(z, 0) - z * t + Math.Log(1 + Math.Exp(-Math.Abs(z)));
            var dz = LossData.Sigmoid(z) - t;
            for (var j = 0; j < 3; j++)
            {
                expected[j] += dz * batch.Features[b * 3 + j] / batch.Count;
            }
            expected[3] += dz / batch.Count;
            Assert.Equal(LossData.Sigmoid(z), net.Predict(batch.Features.AsSpan(b * 3, 3))[0], 6);
        }
        Assert.Equal(expectedLoss / batch.Count, loss, 6);
        for (var i = 0; i < 4; i++)
        {
            Assert.True(Math.Abs(expected[i] - gradient[i]) < 1e-6, $"parameter {i}: {gradient[i]} against {expected[i]}");
        }
    }

    [Fact]
    public void From_logits_predicts_logits_and_counts_accuracy_over_every_label()
    {
        using var net = new LogitsNet(seed: 6);
        var batch = LossData.Batch(3, 2, 9, seed: 7, LossData.Bit);
        var p = net.GetParameters();

        var outputs = new float[batch.Count * 2];
        net.Predict(batch.Features, outputs);
        var result = net.TrainOnBatch(batch, new Sgd(learningRate: 1e-30f));

        var (loss, right) = (0.0, 0);
        for (var b = 0; b < batch.Count; b++)
        {
            for (var k = 0; k < 2; k++)
            {
                // kernel (3, 2) then bias (2): the output is the logit itself.
                var z = p[6 + k] + Enumerable.Range(0, 3).Sum(j => (double)p[j * 2 + k] * batch.Features[b * 3 + j]);
                Assert.Equal(z, outputs[b * 2 + k], 5);
                var t = batch.Targets![b * 2 + k];
                loss += (Math.Max(z, 0) - z * t + Math.Log(1 + Math.Exp(-Math.Abs(z)))) / 2;
                right += z > 0 == t > 0.5f ? 1 : 0;
            }
        }
        Assert.Equal(loss / batch.Count, result.Loss, 6);
        Assert.Equal(right / 18.0, result.Accuracy);
    }

    [Fact]
    public void Generated_gradients_of_binary_heads_match_central_differences()
    {
        using (var binary = new BinaryNet(seed: 8))
        {
            LossData.CheckGradients(binary, LossData.Batch(2, 1, 10, seed: 9, LossData.Bit));
        }
        using (var multi = new MultiLabelNet(seed: 10))
        {
            LossData.CheckGradients(multi, LossData.Batch(4, 3, 10, seed: 11, r => r.NextSingle()));
        }
        using var logits = new LogitsNet(seed: 12);
        var weighted = LossData.Batch(3, 2, 10, seed: 13, LossData.Bit);
        weighted.SampleWeights = [1f, 0.5f, 2f, 0f, 3f, 1f, 1f, 0.25f, 1.5f, 1f];
        LossData.CheckGradients(logits, weighted);
    }
}
