namespace Kiln.Tests.Training;

public class TrainingTests
{
    private static History TrainIris(IrisNet net, int seed, int epochs = 10)
    {
        var (train, test) = Data.Iris(seed);
        return net.Fit(train.Repeat().Shuffle(1000, seed).Batch(32), epochs, stepsPerEpoch: 150, validation: test.Batch(32), options: Data.Quiet);
    }

    [Fact]
    public void Iris_reaches_the_workshop_accuracy()
    {
        using var net = new IrisNet(seed: 1);
        TrainIris(net, seed: 1);

        var result = net.Evaluate(Data.Iris(1).Test.Batch(32));

        Assert.True(result.Accuracy >= 0.9, $"test accuracy {result.Accuracy}");
        Assert.Equal(38, result.Count);
        Assert.Equal(0, Array.IndexOf(net.Predict([5.1f, 3.3f, 1.7f, 0.5f]), net.Predict([5.1f, 3.3f, 1.7f, 0.5f]).Max()));
        Assert.Equal(2, Array.IndexOf(net.Predict([6.9f, 3.1f, 5.4f, 2.1f]), net.Predict([6.9f, 3.1f, 5.4f, 2.1f]).Max()));
    }

    [Fact]
    public void Same_seed_gives_the_same_bits()
    {
        using var first = new IrisNet(seed: 7);
        using var second = new IrisNet(seed: 7);
        var a = TrainIris(first, seed: 7, epochs: 2);
        var b = TrainIris(second, seed: 7, epochs: 2);

        Assert.Equal(first.GetParameters(), second.GetParameters());
        Assert.Equal(a.Loss, b.Loss);
        Assert.Equal(a.ValidationAccuracy, b.ValidationAccuracy);
    }

    [Fact]
    public void Different_seeds_give_different_weights()
    {
        using var first = new IrisNet(seed: 1);
        using var second = new IrisNet(seed: 2);

        Assert.NotEqual(first.GetParameters(), second.GetParameters());
    }

    [Fact]
    public void Initial_weights_are_glorot_uniform_kernels_and_zero_biases()
    {
        using var net = new IrisNet(seed: 3);
        var values = net.GetParameters();

        foreach (var p in net.Info.Parameters)
        {
            var slice = values.AsSpan(p.Offset, p.Length).ToArray();
            if (p.IsKernel)
            {
                var limit = MathF.Sqrt(6f / (p.FanIn + p.FanOut));
                Assert.All(slice, v => Assert.InRange(v, -limit, limit));
                Assert.True(slice.Max() > limit * 0.5f && slice.Min() < -limit * 0.5f, $"{p.Name} does not spread over ±{limit}");
            }
            else
            {
                Assert.All(slice, v => Assert.Equal(0f, v));
            }
        }
    }

    [Fact]
    public void Fitting_twice_with_the_same_optimizer_continues_its_state()
    {
        var (train, _) = Data.Iris();
        var data = train.Batch(16);
        using var once = new IrisNet(seed: 5);
        using var twice = new IrisNet(seed: 5);
        var adam = new Adam();

        once.Fit(data, epochs: 2, optimizer: new Adam(), options: Data.Quiet);
        twice.Fit(data, epochs: 1, optimizer: adam, options: Data.Quiet);
        twice.Fit(data, epochs: 1, optimizer: adam, options: Data.Quiet);

        Assert.Equal(once.GetParameters(), twice.GetParameters());
    }

    [Fact]
    public void Sgd_with_momentum_learns_xor_with_mean_squared_error()
    {
        using var net = new XorNet(seed: 2);
        var before = net.Evaluate(Data.Xor().Batch(4));

        var history = net.Fit(Data.Xor().Repeat().Batch(4), epochs: 20, stepsPerEpoch: 100, optimizer: new Sgd(0.5f, momentum: 0.9f), options: Data.Quiet);

        var after = net.Evaluate(Data.Xor().Batch(4));
        Assert.True(after.Loss < 0.02 && after.Loss < before.Loss / 5, $"MSE {before.Loss} → {after.Loss}");
        Assert.True(double.IsNaN(after.Accuracy), "regression has no accuracy");
        Assert.True(history.Loss[^1] < history.Loss[0]);
        Assert.InRange(net.Predict([0f, 1f])[0], 0.8f, 1f);
        Assert.InRange(net.Predict([1f, 1f])[0], 0f, 0.2f);
    }

    [Fact]
    public void Categorical_targets_with_dropout_train_and_evaluate_deterministically()
    {
        var (train, test) = Data.Iris(2);
        using var net = new OneHotIrisNet(seed: 2);

        net.Fit(Data.OneHot(train).Repeat().Shuffle(200, 2).Batch(16), epochs: 8, stepsPerEpoch: 100, options: Data.Quiet);

        var first = net.Evaluate(Data.OneHot(test).Batch(16));
        var second = net.Evaluate(Data.OneHot(test).Batch(16));
        Assert.True(first.Accuracy >= 0.85, $"accuracy {first.Accuracy}");
        Assert.Equal(first, second);
    }

    [Fact]
    public void Predict_on_many_rows_matches_row_by_row_and_sums_to_one()
    {
        using var net = new IrisNet(seed: 4);
        var rows = Datasets.Iris().Take(300).Select(e => e.Features).ToList();
        var all = new float[rows.Count * IrisNet.OutputSize];

        net.Predict(rows.SelectMany(r => r).ToArray(), all);

        for (var i = 0; i < rows.Count; i++)
        {
            var single = net.Predict(rows[i]);
            Assert.Equal(single, all.AsSpan(i * 3, 3).ToArray());
            Assert.Equal(1f, single.Sum(), 1e-5f);
        }
    }

    [Fact]
    public void Train_on_batch_reports_the_batch_loss_and_allocates_no_new_buffers()
    {
        using var net = new IrisNet(seed: 1);
        var batch = Data.Iris().Train.Batch(32).First();
        var adam = new Adam();
        var first = net.TrainOnBatch(batch, adam);
        for (var i = 0; i < 200; i++)
        {
            net.TrainOnBatch(batch, adam);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var last = net.TrainOnBatch(batch, adam);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(last.Loss < first.Loss, $"{first.Loss} → {last.Loss}");
        Assert.InRange(last.Accuracy, 0, 1);
        Assert.Equal(0, allocated);
    }
}
