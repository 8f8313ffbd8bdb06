using Kiln.Runtime.Cuda;

namespace Kiln.Execution;

/// <summary>
/// The base of every generated CUDA executor: <see cref="IExecutor"/> over the CUDA runtime's <see cref="CudaEngine"/>,
/// which owns everything on the device. This adapter holds what only Kiln knows: the network's
/// <see cref="NetworkInfo"/> (turned into a <see cref="CudaNetworkLayout"/>), the optimizer (turned into a
/// <see cref="CudaUpdate"/>, its iterations and per-step numbers), the training step counter, the batches, and the
/// dropout layers' seeds (the CPU runtime's hash, so both devices draw the same masks).
/// </summary>
/// <remarks>
/// Not thread-safe: one caller at a time. <see cref="Network"/> trains on one instance and gives each concurrent
/// inference caller another (same primary context, own stream, own buffers), so two callers never share a stream or
/// a staging buffer. Every entry point makes the context current, so an instance may move between threads.
/// </remarks>
public abstract class CudaExecutor : CudaEngine, IExecutor
{
    private readonly uint _seed;
    private Optimizer? _optimizer;
    private long _optimizerSteps;
    private uint _step;

    /// <param name="kernels">NVRTC name expressions of the network's kernels; <see cref="CudaEngine.Launch"/> takes an index into it.</param>
    protected CudaExecutor(ExecutorContext context, IReadOnlyList<string> kernels)
        : base(Layout(context, kernels))
    {
        Info = context.Info;
        _seed = context.Seed;
    }

    public NetworkInfo Info { get; }

    /// <summary>A per-layer dropout seed, as <see cref="CpuExecutor"/>'s, so two dropout layers never share a mask.</summary>
    protected uint LayerSeed(int layer) => Runtime.Cpu.Dropout.Hash(_seed, 0x4B494C4Eu, (uint)layer);

    public void SetOptimizer(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (ReferenceEquals(optimizer, _optimizer))
        {
            return;
        }
        SetUpdate(UpdateFor(optimizer));
        _optimizer = optimizer;
        _optimizerSteps = 0;
    }

    public long OptimizerIterations => _optimizerSteps;

    public OptimizerState ReadOptimizerState()
    {
        _ = _optimizer ?? throw new InvalidOperationException("No optimizer selected: call SetOptimizer first.");
        return new OptimizerState(_optimizerSteps, _step, ReadSlots());
    }

    public void WriteOptimizerState(OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var optimizer = _optimizer ?? throw new InvalidOperationException("No optimizer selected: call SetOptimizer first.");
        OptimizerStateCheck.Slots(state, optimizer, Info.TrainableParameterCount);
        WriteSlots(state.Slots);
        _optimizerSteps = state.Iterations;
        _step = state.Step;
    }

    public void TrainStep(Batch batch)
    {
        var optimizer = _optimizer ?? throw new InvalidOperationException("No optimizer selected: call SetOptimizer first.");
        _step++;
        // The step's numbers (rate, bias correction, …) travel with the batch into device memory, so the graph,
        // which includes the update, replays unchanged.
        Span<float> scalars = stackalloc float[Optimizer.MaxScalars];
        optimizer.WriteScalars(scalars, optimizer.LearningRateAt(_optimizerSteps), _optimizerSteps + 1);
        _optimizerSteps++;
        Train(batch.Count, Features(batch), ClassLabels(batch), DenseTargets(batch), _step, scalars);
    }

    public void EvaluateStep(Batch batch) =>
        Evaluate(batch.Count, Features(batch), ClassLabels(batch), DenseTargets(batch), _step);

    public Metrics ReadMetrics()
    {
        ReadMetrics(out var loss, out var correct, out var count);
        return new Metrics(loss, correct, count);
    }

    private ReadOnlySpan<float> Features(Batch batch) => batch.Features.AsSpan(0, batch.Count * Info.InputSize);

    // The loss kernel reads class labels or dense targets, never both.
    private ReadOnlySpan<int> ClassLabels(Batch batch) =>
        Info.Loss == Kiln.Loss.SparseCategoricalCrossentropy ? batch.Labels.AsSpan(0, batch.Count) : default;

    private ReadOnlySpan<float> DenseTargets(Batch batch) =>
        Info.Loss == Kiln.Loss.SparseCategoricalCrossentropy ? default : batch.Targets.AsSpan(0, batch.Count * Info.OutputSize);

    /// <summary>The optimizer in the engine's terms: its kernel, its slots, and its clipping.</summary>
    internal static CudaUpdate UpdateFor(Optimizer optimizer)
    {
        var (clip, threshold) = optimizer switch
        {
            { ClipNorm: { } norm } => (GradientClip.Norm, norm),
            { GlobalClipNorm: { } global } => (GradientClip.GlobalNorm, global),
            { ClipValue: { } value } => (GradientClip.Value, value),
            _ => (GradientClip.None, 0f),
        };
        bool[] slots = [.. Enumerable.Range(0, Optimizer.MaxSlots).Select(optimizer.UsesSlot)];
        return new CudaUpdate(optimizer.CudaKernel, slots, optimizer.SlotInitialValue, clip, threshold);
    }

    /// <summary>The network in the engine's terms: sizes, trainable tensors, and every optimizer kernel.</summary>
    internal static CudaNetworkLayout Layout(ExecutorContext context, IReadOnlyList<string> kernels)
    {
        ArgumentNullException.ThrowIfNull(context);
        var info = context.Info;
        return new CudaNetworkLayout
        {
            Ordinal = context.CudaOrdinal,
            Name = info.Name,
            Kernels = kernels,
            UpdateKernels = Optimizer.CudaKernels,
            ParameterCount = info.ParameterCount,
            TrainableParameterCount = info.TrainableParameterCount,
            TrainableTensorOffsets = [.. Optimizer.TrainableTensors(info).Select(t => t.Offset)],
            InputSize = info.InputSize,
            OutputSize = info.OutputSize,
            ScalarCount = Optimizer.MaxScalars,
        };
    }
}
