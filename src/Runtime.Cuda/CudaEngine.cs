namespace Kiln.Runtime.Cuda;

/// <summary>
/// A network's device side, the base of every generated CUDA executor: the context, the module compiled from the
/// kernel library with the network's template instantiations, the flat parameter/gradient buffers, the update's
/// state slots, input staging, the loss accumulators on the device, clipping and the update launch, the training step
/// recorded as a CUDA graph (<c>KILN_CUDA_GRAPHS=0</c> turns that off) and per-kernel timing
/// (<c>KILN_CUDA_PROFILE=1</c>). The subclass holds the layer buffers and launches the layers in order. It knows
/// nothing of Kiln's networks, optimizers or batches: <see cref="CudaNetworkLayout"/> and <see cref="CudaUpdate"/>
/// carry what it needs in numbers and kernel names.
/// </summary>
/// <remarks>
/// Not thread-safe: one caller at a time. Two instances may run at once (same primary context, own stream, own
/// buffers); every entry point makes the context current, so an instance may move between threads.
/// </remarks>
public abstract class CudaEngine : IDisposable
{
    private const string LossAccumulate = "kiln::loss_accumulate";
    private const string ClipValue = "kiln::clip_value";
    private const string ClipNorm = "kiln::clip_norm";
    private const string ClipGlobalNorm = "kiln::clip_global_norm";

    /// <summary>The engine's own kernels, compiled after the network's and before the update kernels.</summary>
    internal static readonly string[] SharedKernels = [LossAccumulate, ClipValue, ClipNorm, ClipGlobalNorm];

    // Upload, Download, Clear and Fill32 run on the legacy default stream, which the engine's non-blocking stream
    // does not wait for (and a pageable upload may return before its copy lands): after them, _context.Synchronize()
    // before the stream reads those buffers, and _stream.Synchronize() before they read what the stream wrote.
    private readonly CudaNetworkLayout _layout;
    private readonly CudaContext _context;
    private readonly CudaModule _module;
    private readonly CudaFunction[] _functions;
    private readonly Dictionary<string, int> _shared = [];
    private readonly CudaStream _stream;
    private readonly DeviceBuffer<float> _parameters;
    private readonly DeviceBuffer<float> _gradients;
    // The update's state slots over the trainable prefix (null when unused), the step's numbers it reads, and the
    // trainable tensors' bounds for per-tensor clipping.
    private readonly DeviceBuffer<float>?[] _slots = new DeviceBuffer<float>?[CudaUpdate.MaxSlots];
    private readonly DeviceBuffer<float> _scalars;
    private readonly DeviceBuffer<int> _tensorBounds;
    private readonly DeviceBuffer<double> _lossSum;
    private readonly DeviceBuffer<int> _correctSum;
    private readonly DeviceBuffer<uint> _stepCounter;
    private readonly List<IDisposable> _batchBuffers = [];
    private DeviceBuffer<float>? _input;
    private DeviceBuffer<int>? _labels;
    private DeviceBuffer<float>? _targets;
    private DeviceBuffer<float>? _rowLoss;
    private DeviceBuffer<int>? _rowCorrect;
    // Two sets of pinned staging buffers, used in turn: the host fills one while the copy from the other may still
    // be queued. Each set's event completes when its last upload has landed.
    private readonly Staging[] _staging = new Staging[2];
    private int _nextStaging;
    private readonly CudaGraphs? _graphs;
    // Cached, so a step allocates no delegate.
    private readonly Action<int> _queueTrainStep;
    private readonly KernelProfile? _profile;
    private CudaUpdate? _update;
    private long _count;
    private int _capacity;

    /// <summary>Compiles (or finds in <see cref="ModuleCache"/>) and loads the module, and allocates the flat buffers.</summary>
    protected CudaEngine(CudaNetworkLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        layout.Validate();
        _layout = layout;
        _context = new CudaContext(layout.Ordinal);
        string[] names = [.. layout.Kernels, .. SharedKernels, .. layout.UpdateKernels];
        for (var i = layout.Kernels.Count; i < names.Length; i++)
        {
            _shared[names[i]] = i;
        }
        var program = ModuleCache.Shared.GetOrCompile(KernelSources.All, layout.Name, names, _context.Device);
        _module = _context.LoadModule(program);
        _functions = [.. names.Select(_module.GetFunctionByExpression)];
        _stream = _context.CreateStream();
        _parameters = _context.Allocate<float>(layout.ParameterCount);
        _gradients = _context.Allocate<float>(layout.ParameterCount);
        _scalars = _context.Allocate<float>(layout.ScalarCount);
        int[] bounds = [.. layout.TrainableTensorOffsets, layout.TrainableParameterCount];
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

    /// <summary>"CUDA" and the device, e.g. "CUDA 0: NVIDIA H100 80GB HBM3".</summary>
    public string DeviceName => $"CUDA {_context.Device}";

    /// <summary>Device address of the step number uploaded with each training batch, which dropout kernels read (graphs replay with the current value).</summary>
    protected ulong StepCounter => _stepCounter.Pointer;

    /// <summary>Device address of the parameter at flat offset <paramref name="offset"/>.</summary>
    protected ulong Parameters(int offset) => _parameters.At(offset);

    /// <summary>Device address of the gradient at flat offset <paramref name="offset"/>.</summary>
    protected ulong Gradients(int offset) => _gradients.At(offset);

    protected ulong Input => _input!.Pointer;
    protected DeviceBuffer<float> InputBuffer => _input!;
    protected ulong Labels => _labels!.Pointer;
    protected ulong Targets => _targets!.Pointer;
    protected ulong RowLoss => _rowLoss!.Pointer;
    protected ulong RowCorrect => _rowCorrect!.Pointer;

    /// <summary>Allocates the layer buffers for up to <paramref name="batch"/> examples with <see cref="AllocateBatch{T}"/>.</summary>
    protected abstract void Allocate(int batch);

    protected abstract void Forward(int batch, bool training);

    /// <summary>Writes each row's loss and correctness and the gradient of the output (the head's kernel).</summary>
    protected abstract void Loss(int batch);

    protected abstract void Backward(int batch);

    /// <summary>Runs the inference head after <see cref="Forward"/>; returns the buffer whose first rows are the outputs.</summary>
    protected abstract DeviceBuffer<float> Outputs(int batch);

    /// <summary>A per-batch device buffer, freed when the batch capacity grows and when the engine is disposed.</summary>
    protected DeviceBuffer<T> AllocateBatch<T>(long count) where T : unmanaged
    {
        var buffer = _context.Allocate<T>(count);
        _batchBuffers.Add(buffer);
        return buffer;
    }

    /// <summary>Launches the network's kernel <paramref name="kernel"/> (an index into <see cref="CudaNetworkLayout.Kernels"/>) on the engine's stream.</summary>
    protected void Launch(int kernel, LaunchShape shape, params ReadOnlySpan<KernelArgument> arguments)
    {
        _profile?.Before(_stream);
        _module.Launch(_functions[kernel], shape, _stream, arguments);
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

    /// <summary>Selects the update that ends each training step, with fresh state slots filled with its initial value.</summary>
    public void SetUpdate(CudaUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (!_layout.UpdateKernels.Contains(update.Kernel))
        {
            throw new ArgumentException($"The update kernel '{update.Kernel}' is not among the module's ({string.Join(", ", _layout.UpdateKernels)}).", nameof(update));
        }
        if (update.Slots.Count != CudaUpdate.MaxSlots)
        {
            throw new ArgumentException($"An update says for each of {CudaUpdate.MaxSlots} slots whether it is used; {update.Slots.Count} were given.", nameof(update));
        }
        _context.MakeCurrent();
        _stream.Synchronize();
        _update = update;
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i]?.Dispose();
            _slots[i] = update.Slots[i] ? _context.Allocate<float>(Math.Max(1, _layout.TrainableParameterCount)) : null;
            _slots[i]?.Fill32(BitConverter.SingleToUInt32Bits(update.SlotInitialValue));
        }
        // Graphs hold the previous update's kernel and slots.
        _graphs?.Clear();
        _context.Synchronize();
    }

    /// <summary>A copy of each state slot over the trainable prefix; empty for an unused slot.</summary>
    public float[][] ReadSlots()
    {
        _context.MakeCurrent();
        _stream.Synchronize();
        var slots = new float[_slots.Length][];
        for (var i = 0; i < slots.Length; i++)
        {
            slots[i] = _slots[i] is null ? [] : new float[_layout.TrainableParameterCount];
            _slots[i]?.Download(slots[i]);
        }
        return slots;
    }

    /// <summary>Restores what <see cref="ReadSlots"/> returned, for the update already selected.</summary>
    public void WriteSlots(IReadOnlyList<float[]> slots)
    {
        ArgumentNullException.ThrowIfNull(slots);
        _context.MakeCurrent();
        _stream.Synchronize();
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i]?.Upload(slots[i]);
        }
        _context.Synchronize();
    }

    /// <summary>
    /// Queues forward, loss, backward, accumulation and the update on <paramref name="count"/> examples (replaying the
    /// graph recorded for this count when there is one). <paramref name="labels"/> (one class per example) or
    /// <paramref name="targets"/> (one output row per example) is what the loss kernel reads; leave the other empty.
    /// <paramref name="step"/> is what <see cref="StepCounter"/> holds during the step; <paramref name="scalars"/>
    /// the numbers the update reads.
    /// </summary>
    public void Train(int count, ReadOnlySpan<float> features, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets, uint step, ReadOnlySpan<float> scalars)
    {
        _ = _update ?? throw new InvalidOperationException("No update selected: call SetUpdate first.");
        if (scalars.Length > _layout.ScalarCount)
        {
            throw new ArgumentException($"The update reads at most {_layout.ScalarCount} numbers; {scalars.Length} were given.", nameof(scalars));
        }
        Upload(count, features, labels, targets, step, scalars);
        if (_graphs is null || !_graphs.TryLaunch(count, _stream, _queueTrainStep))
        {
            QueueTrainStep(count);
        }
        _count += count;
        _profile?.Collect(_stream);
    }

    /// <summary>Queues forward (inference mode), loss and accumulation on <paramref name="count"/> examples; arguments as <see cref="Train"/>.</summary>
    public void Evaluate(int count, ReadOnlySpan<float> features, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets, uint step)
    {
        Upload(count, features, labels, targets, step, default);
        Forward(count, training: false);
        Loss(count);
        QueueAccumulate(count);
        _count += count;
    }

    // Device work only, with fixed arguments for a given batch size: this is what a graph records.
    private void QueueTrainStep(int count)
    {
        Forward(count, training: true);
        Loss(count);
        Backward(count);
        QueueAccumulate(count);
        QueueUpdate(_update!);
    }

    // Clipping, then one launch of the update kernel over the trainable prefix.
    private void QueueUpdate(CudaUpdate update)
    {
        var n = _layout.TrainableParameterCount;
        if (n == 0)
        {
            return;
        }
        switch (update.Clip)
        {
            case GradientClip.Norm:
                LaunchShared(ClipNorm, KernelGeometry.PerTensor(_layout.TrainableTensorOffsets.Count), _gradients.Pointer, _tensorBounds.Pointer, update.ClipThreshold);
                break;
            case GradientClip.GlobalNorm:
                LaunchShared(ClipGlobalNorm, KernelGeometry.GlobalNorm, _gradients.Pointer, n, update.ClipThreshold);
                break;
            case GradientClip.Value:
                LaunchShared(ClipValue, KernelGeometry.Elementwise(n), _gradients.Pointer, n, update.ClipThreshold);
                break;
        }
        LaunchShared(update.Kernel, KernelGeometry.Elementwise(n), _parameters.Pointer, _gradients.Pointer, Slot(0), Slot(1), Slot(2), n, _scalars.Pointer);
    }

    private void LaunchShared(string kernel, LaunchShape shape, params ReadOnlySpan<KernelArgument> arguments) =>
        Launch(_shared[kernel], shape, arguments);

    private ulong Slot(int i) => _slots[i]?.Pointer ?? 0UL;

    /// <summary>The loss summed over the examples since the last reset, how many were classified correctly, and how many there were.</summary>
    public void ReadMetrics(out double lossSum, out long correct, out long count)
    {
        _context.MakeCurrent();
        _stream.Synchronize();
        Span<double> loss = stackalloc double[1];
        Span<int> correctSum = stackalloc int[1];
        _lossSum.Download(loss);
        _correctSum.Download(correctSum);
        (lossSum, correct, count) = (loss[0], correctSum[0], _count);
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

    /// <summary>Inference-mode outputs (<see cref="Outputs"/>) for <paramref name="count"/> examples, in chunks.</summary>
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
            features.Slice(start * _layout.InputSize, n * _layout.InputSize).CopyTo(staging.Features.AsSpan());
            _input!.UploadAsync(staging.Features, _stream, n * _layout.InputSize);
            Forward(n, training: false);
            var result = Outputs(n);
            _stream.Synchronize();
            result.Download(outputs.Slice(start * _layout.OutputSize, n * _layout.OutputSize));
        }
    }

    /// <summary>Frees the per-batch buffers; the parameters and state slots stay.</summary>
    public void ReleaseBuffers()
    {
        _context.MakeCurrent();
        _stream.Synchronize();
        ReleaseBatchBuffers();
        // Graphs hold the addresses of the buffers just freed; the next batch allocates afresh.
        _graphs?.Clear();
        _capacity = 0;
    }

    /// <summary>Frees everything on the device; with <c>KILN_CUDA_PROFILE=1</c>, first writes the profile to standard error.</summary>
    public void Dispose()
    {
        _context.MakeCurrent();
        _stream.Synchronize();
        _profile?.Report(_layout.Name);
        ReleaseBatchBuffers();
        IDisposable?[] owned = [_graphs, _profile, _parameters, _gradients, .. _slots, _scalars, _tensorBounds, _lossSum, _correctSum, _stepCounter, _stream, _module, _context];
        foreach (var d in owned)
        {
            d?.Dispose();
        }
        GC.SuppressFinalize(this);
    }

    private void QueueAccumulate(int batch) =>
        LaunchShared(LossAccumulate, KernelGeometry.Accumulate, RowLoss, RowCorrect, _lossSum.Pointer, _correctSum.Pointer, batch);

    /// <summary>Stages and uploads the batch, the step number and (training only) the update's numbers.</summary>
    private void Upload(int count, ReadOnlySpan<float> features, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets, uint step, ReadOnlySpan<float> scalars)
    {
        Check(features, count, _layout.InputSize, nameof(features), optional: false);
        Check(labels, count, 1, nameof(labels), optional: true);
        Check(targets, count, _layout.OutputSize, nameof(targets), optional: true);
        _context.MakeCurrent();
        EnsureCapacity(count);
        var staging = _staging[_nextStaging];
        _nextStaging ^= 1;
        // This set's previous upload (two batches ago) may still be queued behind the step before this one.
        staging.Uploaded.Synchronize();
        features.CopyTo(staging.Features.AsSpan());
        _input!.UploadAsync(staging.Features, _stream, features.Length);
        if (!labels.IsEmpty)
        {
            labels.CopyTo(staging.Labels.AsSpan());
            _labels!.UploadAsync(staging.Labels, _stream, labels.Length);
        }
        if (!targets.IsEmpty)
        {
            targets.CopyTo(staging.Targets.AsSpan());
            _targets!.UploadAsync(staging.Targets, _stream, targets.Length);
        }
        staging.Step.AsSpan()[0] = step;
        _stepCounter.UploadAsync(staging.Step, _stream, 1);
        if (!scalars.IsEmpty)
        {
            scalars.CopyTo(staging.Scalars.AsSpan());
            _scalars.UploadAsync(staging.Scalars, _stream, scalars.Length);
        }
        staging.Uploaded.Record(_stream);
    }

    // An input span holds exactly count rows, or is empty when optional (labels or targets the loss does not read).
    private static void Check<T>(ReadOnlySpan<T> values, int count, int row, string name, bool optional)
    {
        if (!(optional && values.IsEmpty) && values.Length != (long)count * row)
        {
            throw new ArgumentException($"{count} examples need {(long)count * row} values in {name}, but {values.Length} were given.", name);
        }
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
        _input = AllocateBatch<float>((long)batch * _layout.InputSize);
        _labels = AllocateBatch<int>(batch);
        _targets = AllocateBatch<float>((long)batch * _layout.OutputSize);
        _rowLoss = AllocateBatch<float>(batch);
        _rowCorrect = AllocateBatch<int>(batch);
        _rowCorrect.Clear();
        for (var i = 0; i < _staging.Length; i++)
        {
            _staging[i] = Track(new Staging(_context, batch, _layout));
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
