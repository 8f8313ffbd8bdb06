using System.Diagnostics;
using Kiln.Execution;
using Kiln.Training;

namespace Kiln;

public abstract partial class Network
{
    /// <summary>
    /// Trains on <paramref name="train"/> for <paramref name="epochs"/> epochs, printing Keras' progress.
    /// With <paramref name="stepsPerEpoch"/>, one iterator runs across epochs (needed for a repeated, infinite
    /// dataset); without it, each epoch is one full pass. Cancelling <paramref name="cancellationToken"/> or a
    /// callback's stop ends training and returns the history so far (a cancelled epoch is not recorded).
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
        if (options.InitialEpoch < 0 || options.InitialEpoch >= epochs)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.InitialEpoch, $"InitialEpoch must be in [0, epochs = {epochs}).");
        }
        if (options.ResumeFrom is not null && options.InitialEpoch != 0)
        {
            throw new ArgumentException("ResumeFrom sets the initial epoch itself; leave InitialEpoch at 0.", nameof(options));
        }
        CheckClassWeight(options.ClassWeight);
        if (options.ValidationSplit is { } split)
        {
            (train, validation) = SplitBatches(train, validation, stepsPerEpoch, split);
        }
        _optimizer = optimizer ?? _optimizer ?? new Adam();
        _executor.SetOptimizer(_optimizer);
        var output = options.Output ?? Console.Out;
        var live = options.Output is null && !Console.IsOutputRedirected;
        var printer = options.Verbose ? new ProgressPrinter(output, live, Info.HasAccuracy) : null;
        var steps = stepsPerEpoch ?? (train.Count is { } count ? (int)count : null);
        var history = new History();
        var restore = FiniteRestorePoint("those Fit started from");
        Callback[] callbacks = [.. options.Callbacks];
        // A step whose loss the CPU executor refused never reaches the running sums; callbacks still see it.
        double? badLoss = null;
        var context = new FitContext(this, _optimizer, epochs, history, options.Verbose ? output : null, () => badLoss ?? _executor.ReadMetrics().Loss);
        var initialEpoch = options.InitialEpoch;
        using var shared = stepsPerEpoch is null ? null : train.GetEnumerator();
        if (options.ResumeFrom is { } resume)
        {
            (initialEpoch, context.Batches, context.Passes) = LoadTrainingCheckpoint(resume, _optimizer);
            if (initialEpoch >= epochs)
            {
                throw new ArgumentOutOfRangeException(nameof(epochs), epochs, $"'{resume}' was saved after epoch {initialEpoch}; there is nothing left of {epochs} epochs.");
            }
            FastForward(train, shared, context.Batches, context.Passes, resume, cancellationToken);
        }
        foreach (var callback in callbacks)
        {
            callback.OnTrainBegin(context);
        }

        for (var epoch = initialEpoch + 1; epoch <= epochs && !context.StopTraining; epoch++)
        {
            foreach (var callback in callbacks)
            {
                callback.OnEpochBegin(epoch, context);
            }
            printer?.BeginEpoch(epoch, epochs);
            var clock = Stopwatch.StartNew();
            _executor.ResetMetrics();
            var step = 0;
            var batches = shared ?? train.GetEnumerator();
            try
            {
                while ((stepsPerEpoch is null || step < stepsPerEpoch) && !cancellationToken.IsCancellationRequested && batches.MoveNext())
                {
                    BatchValidation.Check(batches.Current, Info, Where.Training(epoch, step + 1));
                    context.Batches += shared is null ? 0 : 1;
                    try
                    {
                        TrainStep(batches.Current, options.ClassWeight);
                    }
                    catch (NonFiniteLossException e)
                    {
                        badLoss = e.Loss;
                    }
                    // The executor has copied what it needs; the pipeline may refill the batch.
                    BatchPool.Recycle(batches.Current);
                    step++;
                    foreach (var callback in callbacks)
                    {
                        callback.OnBatchEnd(epoch, step, context);
                    }
                    if (badLoss is { } bad && !context.StopTraining)
                    {
                        throw Diverged($"Training stopped at epoch {epoch}, step {step}: the loss became {bad}. Lower the learning rate or check the data.", null, restore);
                    }
                    if (context.StopTraining)
                    {
                        break;
                    }
                    if (printer is { DueForRedraw: true } || progress is not null)
                    {
                        var running = ReadFiniteMetrics(epoch, step, restore);
                        printer?.Redraw(step, steps, clock.Elapsed, running.Loss, Info.HasAccuracy ? Accuracy(running) : MeanAbsoluteError(running));
                        progress?.Report(new TrainingProgress(epoch, epochs, step, steps, running.Loss, Accuracy(running)));
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
            if (cancellationToken.IsCancellationRequested)
            {
                // The partial epoch is not recorded: the history holds the epochs that completed.
                break;
            }
            context.Passes += shared is null ? 1 : 0;
            if (step == 0)
            {
                throw new InvalidOperationException(epoch == initialEpoch + 1 || shared is null
                    ? "The training dataset is empty."
                    : $"The training dataset ran out of data before epoch {epoch}; use Repeat() or fewer stepsPerEpoch.");
            }

            // After a callback's stop, the epoch's numbers are recorded as they are (NaN included).
            var metrics = context.StopTraining ? _executor.ReadMetrics() : ReadFiniteMetrics(epoch, step, restore);
            var loss = badLoss ?? metrics.Loss;
            Evaluation? validated;
            try
            {
                validated = validation is null || !double.IsFinite(loss) ? null : EvaluateCore(validation, $"validation after epoch {epoch}", cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            clock.Stop();
            printer?.EndEpoch(step, steps, clock.Elapsed, loss, Info.HasAccuracy ? Accuracy(metrics) : MeanAbsoluteError(metrics), validated);
            var record = new EpochMetrics(epoch, step, loss, Accuracy(metrics), validated?.Loss, validated?.Accuracy, clock.Elapsed)
            {
                LearningRate = _optimizer.LearningRateAt(Math.Max(0, _executor.OptimizerIterations - 1)),
                MeanAbsoluteError = Info.HasAccuracy ? null : MeanAbsoluteError(metrics),
                ValidationMeanAbsoluteError = Info.HasAccuracy ? null : validated?.MeanAbsoluteError,
            };
            history.Add(record);
            progress?.Report(new TrainingProgress(epoch, epochs, step, steps, loss, Accuracy(metrics)));
            if (double.IsFinite(loss))
            {
                restore = FiniteRestorePoint($"those after epoch {epoch}")
                    ?? throw Diverged($"Training stopped after epoch {epoch}: some weights became NaN or infinite while the loss stayed finite.", null, restore);
            }
            foreach (var callback in callbacks)
            {
                callback.OnEpochEnd(record, context);
            }
        }
        foreach (var callback in callbacks)
        {
            callback.OnTrainEnd(context);
        }
        return history;
    }

    /// <summary>Reads and discards the training data a resumed run had consumed, so shuffles continue where they were.</summary>
    private static void FastForward(Dataset<Batch> train, IEnumerator<Batch>? shared, long batches, long passes, string path, CancellationToken cancellationToken)
    {
        var (wanted, unit) = shared is null ? (passes, "passes") : (batches, "batches");
        var consumed = 0L;
        if (shared is not null)
        {
            for (; consumed < batches && shared.MoveNext(); consumed++)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        else
        {
            for (; consumed < passes; consumed++)
            {
                using var pass = train.GetEnumerator();
                while (pass.MoveNext())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
        }
        if (consumed < wanted)
        {
            throw new InvalidOperationException($"'{path}' was saved after {wanted} {unit} of training data, but the dataset ran out after {consumed}.");
        }
    }

    /// <summary>The last ⌈fraction · batches⌉ batches of each pass validate (see <see cref="FitOptions.ValidationSplit"/>).</summary>
    private static (Dataset<Batch> Train, Dataset<Batch> Validation) SplitBatches(Dataset<Batch> train, Dataset<Batch>? validation, int? stepsPerEpoch, double fraction)
    {
        if (!(fraction is > 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "ValidationSplit must lie strictly between 0 and 1.");
        }
        if (validation is not null || stepsPerEpoch is not null || train.Count is not { } count)
        {
            throw new ArgumentException("ValidationSplit needs a finite training dataset of known length, no validation dataset and no stepsPerEpoch.", nameof(fraction));
        }
        var held = (long)Math.Ceiling(count * fraction - 1e-9);
        if (held < 1 || held >= count)
        {
            throw new ArgumentException($"ValidationSplit {fraction} of {count} batches leaves nothing to train or to validate on.", nameof(fraction));
        }
        return (train.Take(count - held), train.Skip(count - held));
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
        return new BatchResult(m.Loss, Accuracy(m));
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
            BatchValidation.Check(batch, Info, Where.Batch(what, step));
            EvaluateStep(executor, batch);
            BatchPool.Recycle(batch);
        }
        var metrics = executor.ReadMetrics();
        if (metrics.Count == 0)
        {
            throw new InvalidOperationException($"The dataset for {what} is empty.");
        }
        return new Evaluation(metrics.Loss, Accuracy(metrics), metrics.Count)
        {
            MeanAbsoluteError = MeanAbsoluteError(metrics),
        };
    }

    /// <summary>
    /// Keras' accuracy of the head: the share of examples classified right, or under binary crossentropy the share of
    /// outputs (binary accuracy over every output of every example); NaN for a regression.
    /// </summary>
    private double MeanAbsoluteError(Metrics m) => Info.HasAccuracy ? double.NaN
        // An executor that does not track it (CUDA) still has it as the loss of an unweighted mean-absolute-error network.
        : double.IsNaN(m.AbsoluteErrorSum) && Info.Loss == Loss.MeanAbsoluteError ? m.Loss : m.MeanAbsoluteError;

    private double Accuracy(Metrics m) => !Info.HasAccuracy ? double.NaN : Info.Loss == Loss.BinaryCrossentropy ? m.Accuracy / Info.OutputSize : m.Accuracy;

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
