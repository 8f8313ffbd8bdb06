using Kiln.Runtime.Cpu;

namespace Kiln.Execution;

/// <summary>
/// What every generated CPU executor shares: the flat parameter, gradient and optimizer buffers,
/// buffer growth, the step counter and the metrics. The generated subclass holds the layers.
/// </summary>
/// <remarks>
/// Not thread-safe: one caller at a time. <see cref="Network"/> trains on one instance and gives each concurrent
/// inference caller another, so a prediction never shares layer buffers or a Winograd transform with a step.
/// The gradient buffer is allocated by the first training step, so inference instances never hold one.
/// </remarks>
public abstract class CpuExecutor : IExecutor
{
    private const int PredictChunk = 256;

    private readonly float[] _parameters;
    private float[] _gradients = [];
    private float[] _weights = [];
    private int _weightCount;
    private CpuOptimizerState? _optimizer;
    private int _capacity;
    private Metrics _metrics;

    protected CpuExecutor(ExecutorContext context)
    {
        Info = context.Info;
        Seed = context.Seed;
        _parameters = new float[Info.ParameterCount];
    }

    public NetworkInfo Info { get; }
    public string DeviceName => $"CPU ({Environment.ProcessorCount} cores)";

    protected uint Seed { get; }

    /// <summary>Training steps taken; with <see cref="Seed"/> it keys the dropout masks.</summary>
    protected uint Step { get; private set; }

    protected Span<float> Parameters => _parameters;

    /// <summary>The current step's per-example loss weights; empty (all ones) unless it came with weights.</summary>
    protected ReadOnlySpan<float> Weights => _weights.AsSpan(0, _weightCount);
    protected internal Span<float> Gradients => _gradients;

    /// <summary>The first <paramref name="length"/> elements of a per-batch buffer.</summary>
    protected static Span<T> View<T>(T[] buffer, int length) => buffer.AsSpan(0, length);

    /// <summary>A per-layer dropout seed, so two dropout layers never share a mask.</summary>
    protected uint LayerSeed(int layer) => Dropout.Hash(Seed, 0x4B494C4Eu, (uint)layer);

    /// <summary>Allocates every per-batch buffer for up to <paramref name="batch"/> examples.</summary>
    protected abstract void Allocate(int batch);

    /// <summary>Inference-mode outputs (probabilities for a softmax head) for one chunk.</summary>
    protected abstract void Infer(ReadOnlySpan<float> x, int batch, Span<float> y);

    /// <summary>Forward, loss and backward; gradients land in <see cref="Gradients"/>. Returns the summed loss.</summary>
    protected abstract double TrainBatch(ReadOnlySpan<float> x, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets, int batch, out int correct);

    protected abstract double EvaluateBatch(ReadOnlySpan<float> x, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets, int batch, out int correct);

    public void WriteParameters(ReadOnlySpan<float> values) => values.CopyTo(_parameters);

    public void ReadParameters(Span<float> values) => _parameters.CopyTo(values);

    public void SetOptimizer(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!ReferenceEquals(optimizer, _optimizer?.Optimizer))
        {
            _optimizer = new CpuOptimizerState(optimizer, Info.TrainableParameterCount);
        }
    }

    public long OptimizerIterations => _optimizer?.Iterations ?? 0;

    public OptimizerState ReadOptimizerState()
    {
        var optimizer = _optimizer ?? throw new InvalidOperationException("No optimizer selected: call SetOptimizer first.");
        return new OptimizerState(optimizer.Iterations, Step, [.. optimizer.Slots.Select(s => (float[])s.Clone())]);
    }

    public void WriteOptimizerState(OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var optimizer = _optimizer ?? throw new InvalidOperationException("No optimizer selected: call SetOptimizer first.");
        OptimizerStateCheck.Slots(state, optimizer.Optimizer, Info.TrainableParameterCount);
        for (var i = 0; i < optimizer.Slots.Length; i++)
        {
            state.Slots[i].CopyTo(optimizer.Slots[i], 0);
        }
        optimizer.Iterations = state.Iterations;
        Step = state.Step;
    }

    public void TrainStep(Batch batch)
    {
        var optimizer = _optimizer ?? throw new InvalidOperationException("No optimizer selected: call SetOptimizer first.");
        EnsureCapacity(batch.Count);
        if (_gradients.Length != _parameters.Length)
        {
            _gradients = new float[_parameters.Length];
        }
        Step++;
        var loss = TrainBatch(Features(batch), Labels(batch), Targets(batch), batch.Count, out var correct);
        if (!double.IsFinite(loss))
        {
            throw new NonFiniteLossException(loss);
        }
        // Only the trainable prefix moves; BatchNormalization's statistics follow it in the buffer.
        optimizer.Step(_parameters.AsSpan(0, Info.TrainableParameterCount), _gradients.AsSpan(0, Info.TrainableParameterCount), Info);
        _metrics = _metrics with { LossSum = _metrics.LossSum + loss, Correct = _metrics.Correct + correct, Count = _metrics.Count + batch.Count };
    }

    public void TrainStep(Batch batch, ReadOnlySpan<float> weights)
    {
        SetWeights(weights, batch.Count);
        try
        {
            TrainStep(batch);
        }
        finally
        {
            _weightCount = 0;
        }
    }

    public void EvaluateStep(Batch batch, ReadOnlySpan<float> weights)
    {
        SetWeights(weights, batch.Count);
        try
        {
            EvaluateStep(batch);
        }
        finally
        {
            _weightCount = 0;
        }
    }

    // Copied, since a span cannot be a field; the buffer grows like the batch buffers and is reused.
    private void SetWeights(ReadOnlySpan<float> weights, int count)
    {
        if (weights.Length != count)
        {
            throw new ArgumentException($"{weights.Length} weights for a batch of {count} examples; give one per example.", nameof(weights));
        }
        if (_weights.Length < count)
        {
            _weights = new float[count];
        }
        weights.CopyTo(_weights);
        _weightCount = count;
    }

    public void EvaluateStep(Batch batch)
    {
        EnsureCapacity(batch.Count);
        var loss = EvaluateBatch(Features(batch), Labels(batch), Targets(batch), batch.Count, out var correct);
        _metrics = _metrics with { LossSum = _metrics.LossSum + loss, Correct = _metrics.Correct + correct, Count = _metrics.Count + batch.Count };
    }

    public Metrics ReadMetrics() => _metrics;

    public void ResetMetrics() => _metrics = default;

    /// <summary>Adds a batch's summed mean absolute error (a regression head's <c>mae</c>) to the running metrics.</summary>
    protected void AddAbsoluteError(double sum) => _metrics = _metrics with { AbsoluteErrorSum = _metrics.AbsoluteErrorSum + sum };

    public void Predict(ReadOnlySpan<float> features, int count, Span<float> outputs)
    {
        for (var start = 0; start < count; start += PredictChunk)
        {
            var n = Math.Min(PredictChunk, count - start);
            EnsureCapacity(n);
            Infer(features.Slice(start * Info.InputSize, n * Info.InputSize), n, outputs.Slice(start * Info.OutputSize, n * Info.OutputSize));
        }
    }

    public void ReleaseBuffers()
    {
        Allocate(1);
        _capacity = 1;
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);

    private void EnsureCapacity(int batch)
    {
        if (batch > _capacity)
        {
            Allocate(batch);
            _capacity = batch;
        }
    }

    private ReadOnlySpan<float> Features(Batch batch) => batch.Features.AsSpan(0, batch.Count * Info.InputSize);
    // Only the sparse loss reads labels; a regression batch may carry none.
    private ReadOnlySpan<int> Labels(Batch batch) => Info.Loss == Loss.SparseCategoricalCrossentropy ? batch.Labels.AsSpan(0, batch.Count) : default;
    private ReadOnlySpan<float> Targets(Batch batch) => batch.Targets is null ? default : batch.Targets.AsSpan(0, batch.Count * Info.OutputSize);
}
