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

    /// <summary>Outputs for every example of a finite dataset, batch by batch, laid out row by row (Keras' <c>predict</c>).</summary>
    public float[] Predict(Dataset<Batch> data, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(data);
        if (data.IsInfinite)
        {
            throw new ArgumentException("Cannot predict an infinite dataset; remove Repeat() or Take() a part of it.", nameof(data));
        }
        var outputs = new List<float>();
        var step = 0;
        // One executor of the pool for the whole pass, as Evaluate does: safe beside training and other callers.
        using var lease = _executors.Rent();
        foreach (var batch in data)
        {
            cancellationToken.ThrowIfCancellationRequested();
            step++;
            if (batch.Count <= 0 || batch.FeatureSize != Info.InputSize)
            {
                throw new InvalidDataException($"prediction, batch {step}: {Info.Name} expects {Info.InputSize} features per example {Shape(Info.InputShape)}, but the batch has {batch.Count} examples of {batch.FeatureSize}.");
            }
            var features = batch.Features.AsSpan(0, batch.Count * Info.InputSize);
            BatchValidation.CheckFinite(features, Info.InputSize, Where.Batch("prediction", step));
            var start = outputs.Count;
            System.Runtime.InteropServices.CollectionsMarshal.SetCount(outputs, start + batch.Count * Info.OutputSize);
            lease.Executor.Predict(features, batch.Count, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(outputs)[start..]);
        }
        return [.. outputs];
    }

    /// <summary>
    /// Each row's predicted class: the index of its largest output (ties go to the first), as Keras users write
    /// <c>argmax(axis=-1)</c>; for a binary network (BinaryCrossentropy, one output) 1 where the output is above 0.5
    /// (a probability) or above 0 (a logit, <c>FromLogits</c>), as Keras' binary accuracy thresholds it, else 0.
    /// </summary>
    /// <exception cref="InvalidOperationException">A multi-label network (BinaryCrossentropy over several outputs): each output is its own yes or no.</exception>
    public int[] PredictedClasses(ReadOnlySpan<float> outputs)
    {
        if (outputs.Length % Info.OutputSize != 0)
        {
            throw new ArgumentException($"{outputs.Length} outputs are not whole rows of {Info.OutputSize}.", nameof(outputs));
        }
        var classes = new int[outputs.Length / Info.OutputSize];
        if (Info.Loss == Loss.BinaryCrossentropy)
        {
            if (Info.OutputSize != 1)
            {
                throw new InvalidOperationException($"{Info.Name} has {Info.OutputSize} independent labels (BinaryCrossentropy), not classes: threshold each output instead.");
            }
            // A sigmoid head predicts probabilities; a linear one (FromLogits) predicts logits, whose 0 is the probabilities' 0.5.
            var threshold = Info.Layers.Count > 0 && Info.Layers[^1].Get("activation", "linear") == "sigmoid" ? 0.5f : 0f;
            for (var i = 0; i < classes.Length; i++)
            {
                classes[i] = outputs[i] > threshold ? 1 : 0;
            }
            return classes;
        }
        for (var i = 0; i < classes.Length; i++)
        {
            var row = outputs.Slice(i * Info.OutputSize, Info.OutputSize);
            for (var c = 1; c < row.Length; c++)
            {
                if (row[c] > row[classes[i]])
                {
                    classes[i] = c;
                }
            }
        }
        return classes;
    }

    /// <summary>
    /// Predicts every example of a finite labelled dataset and counts (label, predicted class) pairs: the confusion
    /// matrix with per-class precision, recall and F1 (print it, or draw it as a heat map outside the core library).
    /// </summary>
    public ConfusionMatrix ConfusionMatrix(Dataset<Batch> data, IReadOnlyList<string>? classNames = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var labels = new List<int>();
        var binary = Info.Loss == Loss.BinaryCrossentropy;
        var outputs = Predict(data.Map(b =>
        {
            if (binary && b.Targets is { } targets)
            {
                // A binary example's class is its 0/1 target.
                labels.AddRange(targets.Take(b.Count).Select(t => t > 0.5f ? 1 : 0));
            }
            else
            {
                labels.AddRange(b.Labels.AsSpan(0, b.Count));
            }
            return b;
        }), cancellationToken);
        var predicted = PredictedClasses(outputs);
        return new ConfusionMatrix(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(labels), predicted, binary ? 2 : Info.OutputSize, classNames);
    }

    /// <summary>Keras' top-k categorical accuracy: the share of rows whose label is among their <paramref name="k"/> largest outputs.</summary>
    public double TopKAccuracy(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (outputs.Length != labels.Length * Info.OutputSize)
        {
            throw new ArgumentException($"{labels.Length} labels need {labels.Length * Info.OutputSize} outputs, but {outputs.Length} were given.", nameof(outputs));
        }
        var hits = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            var row = outputs.Slice(i * Info.OutputSize, Info.OutputSize);
            // Ranked like Keras' in_top_k: the label counts when fewer than k outputs are strictly larger.
            var larger = 0;
            foreach (var v in row)
            {
                larger += v > row[labels[i]] ? 1 : 0;
            }
            hits += larger < k ? 1 : 0;
        }
        return labels.Length == 0 ? 0 : (double)hits / labels.Length;
    }

    /// <summary>The name of each row's predicted class, from <paramref name="classNames"/> (one per output; two, for 0 and 1, for a binary network).</summary>
    public string[] PredictedClassNames(ReadOnlySpan<float> outputs, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        var classes = Info.Loss == Loss.BinaryCrossentropy && Info.OutputSize == 1 ? 2 : Info.OutputSize;
        if (classNames.Count != classes)
        {
            throw new ArgumentException($"{Info.Name} predicts {classes} classes, but {classNames.Count} class names were given.", nameof(classNames));
        }
        return [.. PredictedClasses(outputs).Select(c => classNames[c])];
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
        System.Threading.Monitor.Enter(_training);
        if (_disposed)
        {
            System.Threading.Monitor.Exit(_training);
            throw new ObjectDisposedException(GetType().FullName);
        }
        return new TrainingScope(_training);
    }

    private readonly struct TrainingScope(object gate) : IDisposable
    {
        public void Dispose() => System.Threading.Monitor.Exit(gate);
    }

    // One training step: parameter copies for inference wait until it is done, so they never see half an update.
    /// <summary>One training step, weighted by the batch's sample weights or <paramref name="classWeight"/> when either is given.</summary>
    private void TrainStep(Batch batch, IReadOnlyDictionary<int, float>? classWeight = null)
    {
        var weights = StepWeights(batch, classWeight);
        using (_executors.BeginWrite())
        {
            if (weights.IsEmpty)
            {
                _executor.TrainStep(batch);
            }
            else
            {
                _executor.TrainStep(batch, weights);
            }
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
