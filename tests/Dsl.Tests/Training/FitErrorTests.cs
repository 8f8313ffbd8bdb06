namespace Kiln.Tests.Training;

/// <summary>What the compiler cannot catch gets an exception that says what and where.</summary>
public class FitErrorTests
{
    private static Dataset<Batch> Batches(params Example[] examples) => Dataset.From(examples).Batch(2);

    [Fact]
    public void Infinite_dataset_needs_steps_per_epoch()
    {
        using var net = new IrisNet();
        var e = Assert.Throws<ArgumentException>(() => net.Fit(Datasets.Iris().Repeat().Batch(8), epochs: 1, options: Data.Quiet));
        Assert.Equal("stepsPerEpoch", e.ParamName);
        Assert.Contains("infinite", e.Message);
    }

    [Fact]
    public void Empty_dataset_is_an_error()
    {
        using var net = new IrisNet();
        var e = Assert.Throws<InvalidOperationException>(() => net.Fit(Datasets.Iris().Take(0).Batch(8), options: Data.Quiet));
        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void Wrong_feature_count_names_the_step_and_both_sizes()
    {
        using var net = new IrisNet();
        var e = Assert.Throws<InvalidDataException>(() => net.Fit(Batches(new Example([1f, 2f, 3f], 0), new Example([1f, 2f, 3f], 1)), options: Data.Quiet));
        Assert.Equal("epoch 1, step 1: IrisNet expects 4 features per example (4), but the batch has 3.", e.Message);
    }

    [Fact]
    public void Label_outside_the_classes_names_the_example()
    {
        using var net = new IrisNet();
        var e = Assert.Throws<InvalidDataException>(() => net.Fit(Batches(new Example([1f, 2f, 3f, 4f], 2), new Example([1f, 2f, 3f, 4f], 3)), options: Data.Quiet));
        Assert.Equal("epoch 1, step 1: example 1 has label 3, outside [0, 3).", e.Message);
    }

    [Fact]
    public void Non_finite_input_names_example_and_feature()
    {
        using var net = new IrisNet();
        var e = Assert.Throws<InvalidDataException>(() => net.Fit(Batches(new Example([1f, 2f, 3f, 4f], 0), new Example([1f, float.NaN, 3f, 4f], 1)), options: Data.Quiet));
        Assert.Equal("epoch 1, step 1: example 1, feature 1 is NaN; inputs must be finite.", e.Message);
    }

    [Fact]
    public void Exploding_loss_stops_training_at_its_epoch_and_step()
    {
        using var net = new IrisNet(seed: 1);
        // Finite but enormous inputs overflow the logits, so the first loss is not a number.
        var huge = new Example([3e38f, 3e38f, 3e38f, 3e38f], 0);
        var e = Assert.Throws<TrainingException>(() => net.Fit(Batches(huge, huge), options: Data.Quiet));
        Assert.StartsWith("Training stopped at epoch 1, step 1: the loss became", e.Message);
    }

    [Fact]
    public void Targets_are_required_for_regression()
    {
        using var net = new XorNet();
        var e = Assert.Throws<InvalidDataException>(() => net.Fit(Batches(new Example([0f, 1f], 1), new Example([1f, 1f], 0)), options: Data.Quiet));
        Assert.Contains("needs targets of 1 values per example, but the batch has none", e.Message);
    }

    [Fact]
    public void Infinite_validation_set_is_rejected()
    {
        using var net = new IrisNet();
        var e = Assert.Throws<ArgumentException>(() => net.Fit(Datasets.Iris().Batch(8), validation: Datasets.Iris().Repeat().Batch(8), options: Data.Quiet));
        Assert.Equal("validation", e.ParamName);
    }

    [Fact]
    public void Predict_checks_the_feature_count()
    {
        using var net = new IrisNet();
        var e = Assert.Throws<ArgumentException>(() => net.Predict([1f, 2f, 3f]));
        Assert.Contains("IrisNet expects a multiple of 4 features (one example is (4)), but got 3.", e.Message);
    }

    [Fact]
    public void Disposed_network_refuses_work()
    {
        var net = new IrisNet();
        net.Dispose();
        Assert.Throws<ObjectDisposedException>(() => net.Predict([1f, 2f, 3f, 4f]));
    }

    [Fact]
    public void Cancellation_stops_fit_and_returns_the_history_so_far()
    {
        using var net = new IrisNet();
        using var cancel = new CancellationTokenSource();
        var progress = new Progress(cancel.Cancel);

        var history = net.Fit(Datasets.Iris().Repeat().Batch(8), epochs: 5, stepsPerEpoch: 100, options: Data.Quiet, progress: progress, cancellationToken: cancel.Token);
        Assert.Equal(1, progress.Reports);
        // Cancelled during the first epoch: nothing completed.
        Assert.Empty(history.Epochs);
    }

    private sealed class Progress(Action onFirst) : IProgress<TrainingProgress>
    {
        public int Reports { get; private set; }

        public void Report(TrainingProgress value)
        {
            if (++Reports == 1)
            {
                onFirst();
            }
        }
    }
}
