using System.Globalization;
using Kiln.Tests.IO;

namespace Kiln.Tests.Training;

public sealed class CallbackTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static readonly (Dataset<Example> Train, Dataset<Example> Test) Iris = Data.Iris(1);

    private static History Fit(IrisNet net, int epochs, Optimizer optimizer, params Callback[] callbacks) =>
        net.Fit(Iris.Train.Repeat().Shuffle(1000, 1).Batch(16), epochs, stepsPerEpoch: 10, validation: Iris.Test.Batch(16), optimizer: optimizer,
            options: new FitOptions { Verbose = false, Callbacks = callbacks });

    /// <summary>Records every call, and the weights at each epoch's end.</summary>
    private sealed class Recorder : Callback
    {
        public List<string> Calls { get; } = [];
        public Dictionary<int, float[]> Weights { get; } = [];
        public Action<string, FitContext>? Then { get; init; }

        public override void OnTrainBegin(FitContext context) => Record("begin", context);
        public override void OnEpochBegin(int epoch, FitContext context) => Record($"epoch {epoch}", context);
        public override void OnBatchEnd(int epoch, int step, FitContext context) => Record($"batch {epoch}.{step}", context);

        public override void OnEpochEnd(EpochMetrics logs, FitContext context)
        {
            Weights[logs.Epoch] = context.Network.GetParameters();
            Record($"end {logs.Epoch}", context);
        }

        public override void OnTrainEnd(FitContext context) => Record("done", context);

        private void Record(string call, FitContext context)
        {
            Calls.Add(call);
            Then?.Invoke(call, context);
        }
    }

    [Fact]
    public void Callbacks_are_called_in_keras_order()
    {
        using var net = new IrisNet(seed: 1);
        var recorder = new Recorder();
        net.Fit(Iris.Train.Batch(64), 2, options: new FitOptions { Verbose = false, Callbacks = [recorder] });
        // 112 training examples in batches of 64: two steps per epoch.
        Assert.Equal(["begin", "epoch 1", "batch 1.1", "batch 1.2", "end 1", "epoch 2", "batch 2.1", "batch 2.2", "end 2", "done"], recorder.Calls);
    }

    [Fact]
    public void Early_stopping_restores_exactly_the_best_epochs_weights()
    {
        using var net = new IrisNet(seed: 1);
        var recorder = new Recorder();
        var stopping = new EarlyStopping(patience: 2, restoreBestWeights: true);
        // A learning rate this large makes the validation loss jump up and down.
        var history = Fit(net, 30, new Sgd(learningRate: 2f), recorder, stopping);

        var losses = history.ValidationLoss.Select(l => l!.Value).ToList();
        var best = losses.IndexOf(losses.Min()) + 1;
        Assert.True(history.Epochs.Count < 30, "training was not stopped");
        Assert.Equal(best, stopping.BestEpoch);
        Assert.Equal(best + 2, stopping.StoppedEpoch);
        Assert.Equal(stopping.StoppedEpoch, history.Epochs.Count);
        Assert.NotEqual(recorder.Weights[history.Epochs.Count], net.GetParameters());
        Assert.Equal(recorder.Weights[best], net.GetParameters());
    }

    [Fact]
    public void Early_stopping_waits_for_start_from_epoch_and_min_delta()
    {
        using var net = new IrisNet(seed: 1);
        // An improvement must beat the best by 10: nothing ever does after the first monitored epoch (3).
        var stopping = new EarlyStopping(monitor: "loss", minDelta: 10, patience: 1, startFromEpoch: 2);
        var history = Fit(net, 10, new Adam(), stopping);
        Assert.Equal(4, history.Epochs.Count);
        Assert.Equal(3, stopping.BestEpoch);
    }

    [Fact]
    public void Reduce_lr_on_plateau_follows_the_hand_computed_sequence()
    {
        using var net = new IrisNet(seed: 1);
        var optimizer = new Sgd(0.1f);
        var context = new FitContext(net, optimizer, 12, new History(), null, () => 0);
        var plateau = new ReduceLROnPlateau(factor: 0.5, patience: 2, cooldown: 1, minLearningRate: 0.02);
        double[] losses = [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6];
        // best 1 → 0.9; waits 1, 2 → 0.05 and cool down; 0.97 spends the cooldown, wait 1; 0.5 is best; waits 1, 2 →
        // 0.025, cooldown; wait 1 after it, 2 → max(0.0125, 0.02) = 0.02; then the rate is at its floor.
        float[] expected = [0.1f, 0.1f, 0.1f, 0.05f, 0.05f, 0.05f, 0.05f, 0.025f, 0.025f, 0.02f, 0.02f, 0.02f];
        plateau.OnTrainBegin(context);
        var rates = new List<float>();
        for (var epoch = 1; epoch <= losses.Length; epoch++)
        {
            plateau.OnEpochEnd(new EpochMetrics(epoch, 1, 1, 0.5, losses[epoch - 1], 0.5, TimeSpan.Zero), context);
            rates.Add(optimizer.LearningRate);
        }
        Assert.Equal(expected, rates);
    }

    [Fact]
    public void Reduce_lr_on_plateau_changes_the_rate_fit_uses()
    {
        using var net = new IrisNet(seed: 1);
        // No epoch after the first beats the loss by 10, so patience 0 halves the rate at the end of each: an epoch
        // logs the rate its steps used.
        var history = Fit(net, 6, new Adam(0.01f), new ReduceLROnPlateau(monitor: "loss", factor: 0.5, patience: 0, minDelta: 10));
        Assert.Equal([0.01, 0.01, 0.005, 0.0025, 0.00125, 0.000625], history.Epochs.Select(e => Math.Round(e.LearningRate, 9)));
    }

    [Fact]
    public void Cancelling_returns_the_completed_epochs()
    {
        using var net = new IrisNet(seed: 1);
        using var cancel = new CancellationTokenSource();
        var recorder = new Recorder { Then = (call, _) => { if (call == "batch 3.5") { cancel.Cancel(); } } };
        var history = net.Fit(Iris.Train.Repeat().Batch(16), 10, stepsPerEpoch: 10, optimizer: new Adam(),
            options: new FitOptions { Verbose = false, Callbacks = [recorder] }, cancellationToken: cancel.Token);
        Assert.Equal([1, 2], history.Epochs.Select(e => e.Epoch));
        Assert.Equal("done", recorder.Calls[^1]);
        Assert.DoesNotContain("batch 3.6", recorder.Calls);
    }

    [Fact]
    public void A_callback_stop_ends_training_after_that_epoch()
    {
        using var net = new IrisNet(seed: 1);
        var recorder = new Recorder { Then = (call, context) => context.StopTraining |= call == "end 2" };
        var history = Fit(net, 10, new Adam(), recorder);
        Assert.Equal(2, history.Epochs.Count);
    }

    [Fact]
    public void Terminate_on_nan_returns_the_history_instead_of_throwing()
    {
        using var net = new IrisNet(seed: 1);
        var huge = new Example([3e38f, 3e38f, 3e38f, 3e38f], 0);
        var history = net.Fit(Dataset.From([huge, huge, huge, huge]).Batch(2), 3, options: new FitOptions { Verbose = false, Callbacks = [new TerminateOnNaN()] });
        Assert.Single(history.Epochs);
        Assert.Equal(1, history.Epochs[0].Steps);
        Assert.False(double.IsFinite(history.Loss[0]));
    }

    [Fact]
    public void Csv_logger_writes_one_row_per_epoch_in_keras_columns()
    {
        using var net = new IrisNet(seed: 1);
        var path = _directory.File("log.csv");
        var history = Fit(net, 3, new Adam(), new CsvLogger(path));
        var lines = File.ReadAllLines(path);
        Assert.Equal("epoch,accuracy,learning_rate,loss,val_accuracy,val_loss", lines[0]);
        Assert.Equal(4, lines.Length);
        for (var e = 0; e < 3; e++)
        {
            var cells = lines[e + 1].Split(',').Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal([e, history.Accuracy[e], 0.001f, history.Loss[e], history.ValidationAccuracy[e]!.Value, history.ValidationLoss[e]!.Value], cells);
        }
    }

    [Fact]
    public void Unknown_monitors_are_refused_by_name()
    {
        var e = Assert.Throws<ArgumentException>(() => new EarlyStopping(monitor: "val_los"));
        Assert.Contains("Unknown metric 'val_los'", e.Message, StringComparison.Ordinal);
        Assert.Equal("monitor", e.ParamName);
    }
}
