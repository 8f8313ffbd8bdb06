using System.Diagnostics;
using Kiln.Execution;
using Kiln.Training;

namespace Kiln;

public abstract partial class Network
{
    /// <summary>
    /// Trains on <paramref name="train"/> for <paramref name="epochs"/> epochs, printing Keras' progress.
    /// With <paramref name="stepsPerEpoch"/>, one iterator runs across epochs (needed for a repeated, infinite
    /// dataset); without it, each epoch is one full pass.
    /// </summary>
    /// <param name="optimizer">Adam with Keras' defaults when null; the same instance in a later call keeps its state.</param>
    public History Fit(
        Dataset<Batch> train,
        int epochs = 1,
        int? stepsPerEpoch = null,
        Dataset<Batch>? validation = null,
        Optimizer? optimizer = null,
        FitOptions? options = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        if (stepsPerEpoch is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(stepsPerEpoch), stepsPerEpoch, "stepsPerEpoch must be positive.");
        }
        if (train.IsInfinite && stepsPerEpoch is null)
        {
            throw new ArgumentException("The training dataset is infinite (it repeats forever), so each epoch needs an end: pass stepsPerEpoch.", nameof(stepsPerEpoch));
        }
        if (validation is { IsInfinite: true })
        {
            throw new ArgumentException("The validation dataset is infinite; validate on a finite dataset.", nameof(validation));
        }

        using var training = EnterTraining();
        options ??= new FitOptions();
        _optimizer = optimizer ?? _optimizer ?? new Adam();
        _executor.SetOptimizer(_optimizer);
        var output = options.Output ?? Console.Out;
        var live = options.Output is null && !Console.IsOutputRedirected;
        var printer = options.Verbose ? new ProgressPrinter(output, live, Info.HasAccuracy) : null;
        var steps = stepsPerEpoch ?? (train.Count is { } count ? (int)count : null);
        var history = new History();
        var best = double.PositiveInfinity;
        var restore = FiniteRestorePoint("those Fit started from");

        using var shared = stepsPerEpoch is null ? null : train.GetEnumerator();
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            printer?.BeginEpoch(epoch, epochs);
            var clock = Stopwatch.StartNew();
            _executor.ResetMetrics();
            var step = 0;
            var batches = shared ?? train.GetEnumerator();
            try
            {
                while (stepsPerEpoch is null || step < stepsPerEpoch)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (!batches.MoveNext())
                    {
                        break;
                    }
                    var where = $"epoch {epoch}, step {step + 1}";
                    BatchValidation.Check(batches.Current, Info, where);
                    try
                    {
                        TrainStep(batches.Current);
                    }
                    catch (NonFiniteLossException e)
                    {
                        throw Diverged($"Training stopped at {where}: the loss became {e.Loss}. Lower the learning rate or check the data.", e, restore);
                    }
                    step++;
                    if (printer is { DueForRedraw: true } || progress is not null)
                    {
                        var running = ReadFiniteMetrics(epoch, step, restore);
                        printer?.Redraw(step, steps, clock.Elapsed, running.Loss, running.Accuracy);
                        progress?.Report(new TrainingProgress(epoch, epochs, step, steps, running.Loss, running.Accuracy));
                    }
                }
            }
            finally
            {
                if (shared is null)
                {
                    batches.Dispose();
                }
            }
            if (step == 0)
            {
                throw new InvalidOperationException(epoch == 1 || shared is null
                    ? "The training dataset is empty."
                    : $"The training dataset ran out of data before epoch {epoch}; use Repeat() or fewer stepsPerEpoch.");
            }

            var metrics = ReadFiniteMetrics(epoch, step, restore);
            var validated = validation is null ? null : EvaluateCore(validation, $"validation after epoch {epoch}", cancellationToken);
            clock.Stop();
            printer?.EndEpoch(step, steps, clock.Elapsed, metrics.Loss, metrics.Accuracy, validated);
            var record = new EpochMetrics(epoch, step, metrics.Loss, Info.HasAccuracy ? metrics.Accuracy : double.NaN,
                validated?.Loss, validated is null ? null : Info.HasAccuracy ? validated.Accuracy : double.NaN, clock.Elapsed);
            history.Add(record);
            progress?.Report(new TrainingProgress(epoch, epochs, step, steps, metrics.Loss, metrics.Accuracy));
            restore = FiniteRestorePoint($"those after epoch {epoch}")
                ?? throw Diverged($"Training stopped after epoch {epoch}: some weights became NaN or infinite while the loss stayed finite.", null, restore);

            if (options.CheckpointPath is { } checkpoint)
            {
                var monitored = validated?.Loss ?? metrics.Loss;
                if (!options.SaveBestOnly || monitored < best)
                {
                    best = Math.Min(best, monitored);
                    Save(checkpoint.Replace("{epoch}", epoch.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
                }
            }
        }
        return history;
    }

    /// <summary>
    /// One training step on one batch, like Keras' <c>train_on_batch</c>: forward, loss, backward and update.
    /// Allocates nothing once the buffers for this batch size exist.
    /// </summary>
    public BatchResult TrainOnBatch(Batch batch, Optimizer? optimizer = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(batch);
        using var training = EnterTraining();
        _optimizer = optimizer ?? _optimizer ?? new Adam();
        _executor.SetOptimizer(_optimizer);
        BatchValidation.Check(batch, Info, "TrainOnBatch");
        _executor.ResetMetrics();
        try
        {
            TrainStep(batch);
        }
        catch (NonFiniteLossException e)
        {
            throw new TrainingException($"TrainOnBatch: the loss became {e.Loss}.", e);
        }
        // A device executor reports a bad loss only when its metrics are read.
        var m = _executor.ReadMetrics();
        if (!double.IsFinite(m.LossSum))
        {
            throw new TrainingException($"TrainOnBatch: the loss became {m.LossSum}.");
        }
        return new BatchResult(m.Loss, Info.HasAccuracy ? m.Accuracy : double.NaN);
    }

    /// <summary>Mean loss and accuracy over a finite dataset, in inference mode (no dropout).</summary>
    public Evaluation Evaluate(Dataset<Batch> data, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(data);
        if (data.IsInfinite)
        {
            throw new ArgumentException("Cannot evaluate an infinite dataset; remove Repeat() or Take() a part of it.", nameof(data));
        }
        return EvaluateCore(data, "evaluation", cancellationToken);
    }

    private Evaluation EvaluateCore(Dataset<Batch> data, string what, CancellationToken cancellationToken)
    {
        // An executor of this call's own, so its running sums are this call's alone.
        using var lease = _executors.Rent();
        var executor = lease.Executor;
        executor.ResetMetrics();
        var step = 0;
        foreach (var batch in data)
        {
            cancellationToken.ThrowIfCancellationRequested();
            step++;
            BatchValidation.Check(batch, Info, $"{what}, batch {step}");
            executor.EvaluateStep(batch);
        }
        var metrics = executor.ReadMetrics();
        if (metrics.Count == 0)
        {
            throw new InvalidOperationException($"The dataset for {what} is empty.");
        }
        return new Evaluation(metrics.Loss, Info.HasAccuracy ? metrics.Accuracy : double.NaN, metrics.Count);
    }

    private Metrics ReadFiniteMetrics(int epoch, int step, RestorePoint? restore)
    {
        var m = _executor.ReadMetrics();
        if (!double.IsFinite(m.LossSum))
        {
            throw Diverged($"Training stopped at epoch {epoch}, at or before step {step}: the loss became {m.LossSum}. Lower the learning rate or check the data.", null, restore);
        }
        return m;
    }
}
