using Kiln.Execution;
using Kiln.Runtime.Cpu;

namespace Kiln;

/// <summary>
/// The base of every generated network. The generator supplies the shapes and the specialised
/// executor; this class owns initialisation, the training loop, prediction and persistence.
/// </summary>
/// <remarks>
/// <para><b>Thread safety.</b> Inference is safe from any number of threads, like an ONNX Runtime session:
/// <see cref="Predict(ReadOnlySpan{float})"/>, <see cref="Evaluate"/>, <see cref="GetParameters"/> and
/// <see cref="Save"/> may run concurrently with each other and with training. Each inference call runs on an executor
/// of its own (a pool grows to the number of concurrent callers; <see cref="ReleaseBuffers"/> empties it), so calls do
/// not wait for each other, and each result is bit-identical to a serial call on the same parameters.</para>
/// <para>Training does not block inference: a call made while <see cref="Fit"/> or <see cref="TrainOnBatch"/> runs
/// sees the parameters as they were after some completed step (a consistent set, never half an update), copied
/// under a lock that only excludes the step itself. Training calls (<see cref="Fit"/>, <see cref="TrainOnBatch"/>)
/// and parameter changes (<see cref="SetParameters"/>, <see cref="Load"/>, <see cref="ReleaseBuffers"/>) run one at
/// a time: a second waits until the first returns. <see cref="Dispose"/> waits for a running training call; calls
/// after it throw <see cref="ObjectDisposedException"/>; inference calls already running finish on their own executors.</para>
/// </remarks>
public abstract partial class Network : IDisposable
{
    private readonly ExecutorPool _executors;
    private readonly IExecutor _executor;
    // Held by training calls and parameter changes for their whole duration; reentrant, so Fit may call Save or Load.
    private readonly object _training = new();
    private Optimizer? _optimizer;
    private volatile bool _disposed;

    protected Network(NetworkInfo info, int seed, Device device, Func<ExecutorContext, IExecutor> createExecutor)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(createExecutor);
        Info = info;
        Seed = seed;
        Device = DeviceSelection.Resolve(device, Console.Error);
        _executors = new ExecutorPool(createExecutor, new ExecutorContext(info, Device.Kind == DeviceKind.Cuda, Device.Ordinal, unchecked((uint)seed)));
        _executor = _executors.Master;
        _executor.WriteParameters(InitialParameters(info, seed));
    }

    /// <summary>Shapes, parameter table and summary, as the generator computed them.</summary>
    public NetworkInfo Info { get; }

    public int Seed { get; }

    /// <summary>The device the network runs on (never <see cref="DeviceKind.Auto"/>).</summary>
    public Device Device { get; }

    public string DeviceName => _executor.DeviceName;

    /// <summary>Class probabilities (or raw outputs, without a softmax head) for one example.</summary>
    public float[] Predict(ReadOnlySpan<float> features)
    {
        var output = new float[Info.OutputSize];
        Predict(features, output);
        return output;
    }

    /// <summary>Outputs for <c>features.Length / InputSize</c> examples, laid out row by row.</summary>
    public void Predict(ReadOnlySpan<float> features, Span<float> outputs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (features.Length == 0 || features.Length % Info.InputSize != 0)
        {
            throw new ArgumentException($"{Info.Name} expects a multiple of {Info.InputSize} features (one example is {Shape(Info.InputShape)}), but got {features.Length}.", nameof(features));
        }
        var count = features.Length / Info.InputSize;
        if (outputs.Length != count * Info.OutputSize)
        {
            throw new ArgumentException($"{count} examples need {count * Info.OutputSize} outputs, but the span holds {outputs.Length}.", nameof(outputs));
        }
        BatchValidation.CheckFinite(features, Info.InputSize, "features");
        using var lease = _executors.Rent();
        lease.Executor.Predict(features, count, outputs);
    }

    /// <summary>A copy of every parameter, in <see cref="NetworkInfo.Parameters"/> order, as it was between two training steps.</summary>
    public float[] GetParameters()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var values = new float[Info.ParameterCount];
        using (_executors.BeginRead())
        {
            _executor.ReadParameters(values);
        }
        return values;
    }

    public void SetParameters(ReadOnlySpan<float> values)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (values.Length != Info.ParameterCount)
        {
            throw new ArgumentException($"{Info.Name} has {Info.ParameterCount} parameters, but {values.Length} were given.", nameof(values));
        }
        using (EnterTraining())
        using (_executors.BeginWrite())
        {
            _executor.WriteParameters(values);
        }
    }

    /// <summary>
    /// Gives back the memory that large batches left behind without disposing the network: the idle inference
    /// executors are disposed (new ones are made on demand) and the training buffers shrink to one example. The
    /// parameters and the optimizer state stay. Waits for a running training call.
    /// </summary>
    public void ReleaseBuffers()
    {
        using (EnterTraining())
        {
            _executors.Trim();
        }
    }

    /// <summary>Waits for a running training call, then frees the executors; inference calls already running finish on their own executors.</summary>
    public void Dispose()
    {
        lock (_training)
        {
            _disposed = true;
            _executors.Dispose();
        }
        GC.SuppressFinalize(this);
    }

    // Training calls and parameter changes run one at a time; checked after waiting, as Dispose may have run meanwhile.
    private TrainingScope EnterTraining()
    {
        Monitor.Enter(_training);
        if (_disposed)
        {
            Monitor.Exit(_training);
            throw new ObjectDisposedException(GetType().FullName);
        }
        return new TrainingScope(_training);
    }

    private readonly struct TrainingScope(object gate) : IDisposable
    {
        public void Dispose() => Monitor.Exit(gate);
    }

    // One training step: parameter copies for inference wait until it is done, so they never see half an update.
    private void TrainStep(Batch batch)
    {
        using (_executors.BeginWrite())
        {
            _executor.TrainStep(batch);
        }
    }

    /// <summary>Keras' defaults: Glorot-uniform kernels (drawn in parameter order from one stream), zero biases, ones where asked.</summary>
    private static float[] InitialParameters(NetworkInfo info, int seed)
    {
        var values = new float[info.ParameterCount];
        var rng = new Rng(unchecked((ulong)seed));
        foreach (var parameter in info.Parameters.Where(p => p.IsKernel))
        {
            Init.GlorotUniform(values.AsSpan(parameter.Offset, parameter.Length), parameter.FanIn, parameter.FanOut, ref rng);
        }
        foreach (var parameter in info.Parameters.Where(p => p.Init == ParameterInit.Ones))
        {
            values.AsSpan(parameter.Offset, parameter.Length).Fill(1f);
        }
        return values;
    }

    internal static string Shape(IReadOnlyList<int> dims) => "(" + string.Join(", ", dims) + ")";
}
