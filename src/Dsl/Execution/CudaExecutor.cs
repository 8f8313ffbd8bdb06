using System.Runtime.InteropServices;
using Kiln.Runtime.Cuda;

namespace Kiln.Execution;

/// <summary>
/// What every generated CUDA executor shares: the context, the module compiled from the kernel library with the
/// network's template instantiations, the flat parameter/gradient buffers, the optimizer's state slots, input
/// staging, the loss accumulators on the device, clipping and the optimizer launch (by the kernel name the optimizer
/// declares). The generated subclass holds the layer buffers and launches the layers in order.
/// </summary>
/// <remarks>
/// Not thread-safe: one caller at a time. <see cref="Network"/> trains on one instance and gives each concurrent
/// inference caller another (same primary context, own stream, own buffers), so two callers never share a stream or
/// a staging buffer. Every entry point makes the context current, so an instance may move between threads.
/// </remarks>
public abstract unsafe class CudaExecutor : IExecutor
{
    private const string LossAccumulate = "kiln::loss_accumulate";
    private const string ClipValue = "kiln::clip_value";
    private const string ClipNorm = "kiln::clip_norm";
    private const string ClipGlobalNorm = "kiln::clip_global_norm";
    private static readonly string[] SharedKernels = [LossAccumulate, ClipValue, ClipNorm, ClipGlobalNorm, .. Optimizer.CudaKernels];

    // Upload, Download, Clear and Fill32 run on the legacy default stream, which the executor's non-blocking stream
    // does not wait for (and a pageable upload may return before its copy lands): after them, _context.Synchronize()
    // before the stream reads those buffers, and _stream.Synchronize() before they read what the stream wrote.
    private readonly CudaContext _context;
    private readonly CudaModule _module;
    private readonly CudaFunction[] _functions;
    private readonly CudaStream _stream;
    private readonly DeviceBuffer<float> _parameters;
    private readonly DeviceBuffer<float> _gradients;
    // The optimizer's state slots over the trainable prefix (null when unused), the step's numbers it reads, and
    // the trainable tensors' bounds for per-tensor clipping.
    private readonly DeviceBuffer<float>?[] _slots = new DeviceBuffer<float>?[Optimizer.MaxSlots];
    private readonly DeviceBuffer<float> _scalars;
    private readonly DeviceBuffer<int> _tensorBounds;
    private readonly int _tensorCount;
    private readonly DeviceBuffer<double> _lossSum;
    private readonly DeviceBuffer<int> _correctSum;
    private readonly List<IDisposable> _batchBuffers = [];
    private readonly Dictionary<string, int> _shared = [];
    private DeviceBuffer<float>? _input;
    private DeviceBuffer<int>? _labels;
    private DeviceBuffer<float>? _targets;
    private DeviceBuffer<float>? _rowLoss;
    private DeviceBuffer<int>? _rowCorrect;
    private readonly DeviceBuffer<uint> _stepCounter;
    // Two sets of pinned staging buffers, used in turn: the host fills one while the copy from the other may still
    // be queued. Each set's event completes when its last upload has landed.
    private readonly Staging[] _staging = new Staging[2];
    private int _nextStaging;
    private readonly CudaGraphs? _graphs;
    // Cached, so a step allocates no delegate.
    private readonly Action<int> _queueTrainStep;
    private readonly KernelProfile? _profile;
    private Optimizer? _optimizer;
    private long _optimizerSteps;
    private long _count;
    private int _capacity;

    /// <param name="kernels">NVRTC name expressions of the network's kernels; <see cref="Launch"/> takes an index into it.</param>
    protected CudaExecutor(ExecutorContext context, IReadOnlyList<string> kernels)
    {
        Info = context.Info;
        Seed = context.Seed;
        _context = new CudaContext(context.CudaOrdinal);
        var names = kernels.Concat(SharedKernels).ToArray();
        for (var i = 0; i < SharedKernels.Length; i++)
        {
            _shared[SharedKernels[i]] = kernels.Count + i;
        }
        var program = ModuleCache.Shared.GetOrCompile(KernelSources.All, Info.Name, names, _context.Device);
        _module = _context.LoadModule(program);
        _functions = [.. names.Select(_module.GetFunctionByExpression)];
        _stream = _context.CreateStream();
        _parameters = _context.Allocate<float>(Info.ParameterCount);
        _gradients = _context.Allocate<float>(Info.ParameterCount);
        _scalars = _context.Allocate<float>(Optimizer.MaxScalars);
        int[] bounds = [.. Optimizer.TrainableTensors(Info).Select(t => t.Offset), Info.TrainableParameterCount];
        _tensorCount = bounds.Length - 1;
        _tensorBounds = _context.Allocate<int>(bounds.Length);
        _tensorBounds.Upload(bounds);
        _lossSum = _context.Allocate<double>(1);
        _correctSum = _context.Allocate<int>(1);
        _stepCounter = _context.Allocate<uint>(1);
        _profile = KernelProfile.FromEnvironment(_context, names);
        _graphs = _profile is null && CudaGraphs.Enabled ? new CudaGraphs() : null;
        _queueTrainStep = QueueTrainStep;
        ResetMetrics();
    }

    public NetworkInfo Info { get; }
    public string DeviceName => $"CUDA {_context.Device}";

    protected uint Seed { get; }

    /// <summary>Training steps so far; dropout hashes it with the seed, so CPU and GPU masks agree.</summary>
    protected uint Step { get; private set; }

    /// <summary>Device address of <see cref="Step"/>'s copy for this step, which dropout kernels read (graphs replay with the current value).</summary>
    protected ulong StepCounter => _stepCounter.Pointer;
    protected CudaContext Context => _context;

    /// <summary>Device address of the parameter at flat offset <paramref name="offset"/>.</summary>
    protected ulong Parameters(int offset) => _parameters.At(offset);
    protected ulong Gradients(int offset) => _gradients.At(offset);
    protected ulong Input => _input!.Pointer;
    protected DeviceBuffer<float> InputBuffer => _input!;
    protected ulong Labels => _labels!.Pointer;
    protected ulong Targets => _targets!.Pointer;
    protected ulong RowLoss => _rowLoss!.Pointer;
    protected ulong RowCorrect => _rowCorrect!.Pointer;

    protected uint LayerSeed(int layer) => Runtime.Cpu.Dropout.Hash(Seed, 0x4B494C4Eu, (uint)layer);

    /// <summary>Allocates the layer buffers for up to <paramref name="batch"/> examples with <see cref="AllocateBatch{T}"/>.</summary>
    protected abstract void Allocate(int batch);

    protected abstract void Forward(int batch, bool training);

    /// <summary>Writes each row's loss and correctness and the gradient of the output (the head's kernel).</summary>
    protected abstract void Loss(int batch);

    protected abstract void Backward(int batch);

    /// <summary>Runs the inference head after <see cref="Forward"/>; returns the buffer whose first rows are the outputs.</summary>
    protected abstract DeviceBuffer<float> Outputs(int batch);

    /// <summary>A per-batch device buffer, freed when the batch capacity grows and when the executor is disposed.</summary>
    protected DeviceBuffer<T> AllocateBatch<T>(long count) where T : unmanaged
    {
        var buffer = _context.Allocate<T>(count);
        _batchBuffers.Add(buffer);
        return buffer;
    }

    /// <summary>Launches kernel <paramref name="kernel"/> on the executor's stream.</summary>
    protected void Launch(int kernel, LaunchShape shape, params ReadOnlySpan<KernelArgument> arguments)
    {
        var values = stackalloc ulong[arguments.Length];
        var pointers = stackalloc void*[arguments.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            values[i] = arguments[i].Bits;
            pointers[i] = values + i;
        }
        _profile?.Before(kernel, _stream);
        _module.Launch(_functions[kernel], shape.Grid, shape.Block, 0, _stream, pointers);
        _profile?.After(kernel, _stream);
    }

    public void WriteParameters(ReadOnlySpan<float> values)
    {
        _context.MakeCurrent();
        _stream.Synchronize();
        _parameters.Upload(values);
        _context.Synchronize();
    }

    public void ReadParameters(Span<float> values)
    {
        _context.MakeCurrent();
        _stream.Synchronize();
        _parameters.Download(values);
    }

    public void SetOptimizer(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (ReferenceEquals(optimizer, _optimizer))
        {
            return;
        }
        _context.MakeCurrent();
        _stream.Synchronize();
        _optimizer = optimizer;
        _optimizerSteps = 0;
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i]?.Dispose();
            _slots[i] = optimizer.UsesSlot(i) ? _context.Allocate<float>(Math.Max(1, Info.TrainableParameterCount)) : null;
            _slots[i]?.Fill32(BitConverter.SingleToUInt32Bits(optimizer.SlotInitialValue));
        }
        // Graphs hold the previous optimizer's kernel and slots.
        _graphs?.Clear();
        _context.Synchronize();
    }

    public long OptimizerIterations => _optimizerSteps;

    public OptimizerState ReadOptimizerState()
    {
        _ = _optimizer ?? throw new InvalidOperationException("No optimizer selected: call SetOptimizer first.");
        _context.MakeCurrent();
        _stream.Synchronize();
        var slots = new float[_slots.Length][];
        for (var i = 0; i < slots.Length; i++)
        {
            slots[i] = _slots[i] is { } buffer ? new float[Info.TrainableParameterCount] : [];
            _slots[i]?.Download(slots[i]);
        }
        return new OptimizerState(_optimizerSteps, Step, slots);
    }

    public void WriteOptimizerState(OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var optimizer = _optimizer ?? throw new InvalidOperationException("No optimizer selected: call SetOptimizer first.");
        OptimizerStateCheck.Slots(state, optimizer, Info.TrainableParameterCount);
        _context.MakeCurrent();
        _stream.Synchronize();
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i]?.Upload(state.Slots[i]);
        }
        _context.Synchronize();
        _optimizerSteps = state.Iterations;
        Step = state.Step;
    }

    public void TrainStep(Batch batch)
    {
        var optimizer = _optimizer ?? throw new InvalidOperationException("No optimizer selected: call SetOptimizer first.");
        Step++;
        // The step's numbers (rate, bias correction, …) travel with the batch into device memory, so the graph,
        // which includes the update, replays unchanged.
        Span<float> scalars = stackalloc float[Optimizer.MaxScalars];
        optimizer.WriteScalars(scalars, optimizer.LearningRateAt(_optimizerSteps), _optimizerSteps + 1);
        _optimizerSteps++;
        Upload(batch, scalars);
        var count = batch.Count;
        if (_graphs is null || !_graphs.TryLaunch(count, _stream, _queueTrainStep))
        {
            QueueTrainStep(count);
        }
        _count += count;
        _profile?.Collect(_stream);
    }

    // Device work only, with fixed arguments for a given batch size: this is what a graph records.
    private void QueueTrainStep(int count)
    {
        Forward(count, training: true);
        Loss(count);
        Backward(count);
        QueueAccumulate(count);
        QueueUpdate(_optimizer!);
    }

    // Clipping, then one launch of the optimizer's kernel over the trainable prefix.
    private void QueueUpdate(Optimizer optimizer)
    {
        var n = Info.TrainableParameterCount;
        if (n == 0)
        {
            return;
        }
        if (optimizer.ClipNorm is { } norm)
        {
            Launch(_shared[ClipNorm], KernelGeometry.PerTensor(_tensorCount), _gradients.Pointer, _tensorBounds.Pointer, norm);
        }
        else if (optimizer.GlobalClipNorm is { } global)
        {
            Launch(_shared[ClipGlobalNorm], KernelGeometry.GlobalNorm, _gradients.Pointer, n, global);
        }
        else if (optimizer.ClipValue is { } value)
        {
            Launch(_shared[ClipValue], KernelGeometry.Elementwise(n), _gradients.Pointer, n, value);
        }
        Launch(_shared[optimizer.CudaKernel], KernelGeometry.Elementwise(n), _parameters.Pointer, _gradients.Pointer,
            Slot(0), Slot(1), Slot(2), n, _scalars.Pointer);
    }

    private ulong Slot(int i) => _slots[i]?.Pointer ?? 0UL;

    public void EvaluateStep(Batch batch)
    {
        Upload(batch, default);
        Forward(batch.Count, training: false);
        Loss(batch.Count);
        QueueAccumulate(batch.Count);
        _count += batch.Count;
    }

    public Metrics ReadMetrics()
    {
        _context.MakeCurrent();
        _stream.Synchronize();
        Span<double> loss = stackalloc double[1];
        Span<int> correct = stackalloc int[1];
        _lossSum.Download(loss);
        _correctSum.Download(correct);
        return new Metrics(loss[0], correct[0], _count);
    }

    public void ResetMetrics()
    {
        _context.MakeCurrent();
        _stream.Synchronize();
        _lossSum.Clear();
        _correctSum.Clear();
        _context.Synchronize();
        _count = 0;
    }

    public void Predict(ReadOnlySpan<float> features, int count, Span<float> outputs)
    {
        const int chunk = 256;
        _context.MakeCurrent();
        for (var start = 0; start < count; start += chunk)
        {
            var n = Math.Min(chunk, count - start);
            EnsureCapacity(n);
            _stream.Synchronize();
            var staging = _staging[0];
            features.Slice(start * Info.InputSize, n * Info.InputSize).CopyTo(staging.Features.AsSpan());
            _input!.UploadAsync(staging.Features, _stream, n * Info.InputSize);
            Forward(n, training: false);
            var result = Outputs(n);
            _stream.Synchronize();
            result.Download(outputs.Slice(start * Info.OutputSize, n * Info.OutputSize));
        }
    }

    public void ReleaseBuffers()
    {
        _context.MakeCurrent();
        _stream.Synchronize();
        ReleaseBatchBuffers();
        // Graphs hold the addresses of the buffers just freed; the next batch allocates afresh.
        _graphs?.Clear();
        _capacity = 0;
    }

    public void Dispose()
    {
        _context.MakeCurrent();
        _stream.Synchronize();
        _profile?.Report(Info.Name);
        ReleaseBatchBuffers();
        IDisposable?[] owned = [_graphs, _profile, _parameters, _gradients, .. _slots, _scalars, _tensorBounds, _lossSum, _correctSum, _stepCounter, _stream, _module, _context];
        foreach (var d in owned)
        {
            d?.Dispose();
        }
        GC.SuppressFinalize(this);
    }

    private void QueueAccumulate(int batch) =>
        Launch(_shared[LossAccumulate], KernelGeometry.Accumulate, RowLoss, RowCorrect, _lossSum.Pointer, _correctSum.Pointer, batch);

    /// <summary>Stages and uploads the batch, the step counter and (training only) the optimizer's numbers.</summary>
    private void Upload(Batch batch, ReadOnlySpan<float> scalars)
    {
        _context.MakeCurrent();
        EnsureCapacity(batch.Count);
        var staging = _staging[_nextStaging];
        _nextStaging ^= 1;
        // This set's previous upload (two batches ago) may still be queued behind the step before this one.
        staging.Uploaded.Synchronize();
        var features = batch.Count * Info.InputSize;
        batch.Features.AsSpan(0, features).CopyTo(staging.Features.AsSpan());
        _input!.UploadAsync(staging.Features, _stream, features);
        if (Info.Loss == Kiln.Loss.SparseCategoricalCrossentropy)
        {
            batch.Labels.AsSpan(0, batch.Count).CopyTo(staging.Labels.AsSpan());
            _labels!.UploadAsync(staging.Labels, _stream, batch.Count);
        }
        else
        {
            var targets = batch.Count * Info.OutputSize;
            batch.Targets.AsSpan(0, targets).CopyTo(staging.Targets.AsSpan());
            _targets!.UploadAsync(staging.Targets, _stream, targets);
        }
        staging.Step.AsSpan()[0] = Step;
        _stepCounter.UploadAsync(staging.Step, _stream, 1);
        if (!scalars.IsEmpty)
        {
            scalars.CopyTo(staging.Scalars.AsSpan());
            _scalars.UploadAsync(staging.Scalars, _stream, scalars.Length);
        }
        staging.Uploaded.Record(_stream);
    }

    private void EnsureCapacity(int batch)
    {
        if (batch <= _capacity)
        {
            return;
        }
        _context.MakeCurrent();
        _stream.Synchronize();
        ReleaseBatchBuffers();
        _input = AllocateBatch<float>((long)batch * Info.InputSize);
        _labels = AllocateBatch<int>(batch);
        _targets = AllocateBatch<float>((long)batch * Info.OutputSize);
        _rowLoss = AllocateBatch<float>(batch);
        _rowCorrect = AllocateBatch<int>(batch);
        _rowCorrect.Clear();
        for (var i = 0; i < _staging.Length; i++)
        {
            _staging[i] = Track(new Staging(_context, batch, Info));
        }
        Allocate(batch);
        // Graphs hold the addresses of the buffers just freed.
        _graphs?.Clear();
        _context.Synchronize();
        _capacity = batch;
    }

    private T Track<T>(T buffer) where T : IDisposable
    {
        _batchBuffers.Add(buffer);
        return buffer;
    }

    private void ReleaseBatchBuffers()
    {
        foreach (var buffer in _batchBuffers)
        {
            buffer.Dispose();
        }
        _batchBuffers.Clear();
    }
}

/// <summary>One set of pinned host buffers that batches pass through on their way to the device.</summary>
internal sealed class Staging(CudaContext context, int batch, NetworkInfo info) : IDisposable
{
    public PinnedBuffer<float> Features { get; } = context.AllocatePinned<float>((long)batch * info.InputSize);
    public PinnedBuffer<int> Labels { get; } = context.AllocatePinned<int>(batch);
    public PinnedBuffer<float> Targets { get; } = context.AllocatePinned<float>((long)batch * info.OutputSize);
    public PinnedBuffer<uint> Step { get; } = context.AllocatePinned<uint>(1);
    public PinnedBuffer<float> Scalars { get; } = context.AllocatePinned<float>(Optimizer.MaxScalars);
    public CudaEvent Uploaded { get; } = context.CreateEvent();

    public void Dispose()
    {
        Uploaded.Synchronize();
        foreach (var d in new IDisposable[] { Uploaded, Features, Labels, Targets, Step, Scalars })
        {
            d.Dispose();
        }
    }
}

/// <summary>One kernel argument: a device address, an int, a uint or a float, in an 8-byte slot.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct KernelArgument
{
    private KernelArgument(ulong bits) => Bits = bits;

    internal ulong Bits { get; }

    public static implicit operator KernelArgument(ulong address) => new(address);
    public static implicit operator KernelArgument(int value) => new((uint)value);
    public static implicit operator KernelArgument(uint value) => new(value);
    public static implicit operator KernelArgument(float value) => new(BitConverter.SingleToUInt32Bits(value));
}
