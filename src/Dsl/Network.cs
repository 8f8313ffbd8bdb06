using Kiln.Execution;
using Kiln.Runtime.Cpu;

namespace Kiln;

/// <summary>
/// The base of every generated network. The generator supplies the shapes and the specialised
/// executor; this class owns initialisation, the training loop, prediction and persistence.
/// </summary>
public abstract partial class Network : IDisposable
{
    private readonly IExecutor _executor;
    private Optimizer? _optimizer;
    private bool _disposed;

    protected Network(NetworkInfo info, int seed, Device device, Func<ExecutorContext, IExecutor> createExecutor)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(createExecutor);
        Info = info;
        Seed = seed;
        Device = DeviceSelection.Resolve(device, Console.Error);
        _executor = createExecutor(new ExecutorContext(info, Device.Kind == DeviceKind.Cuda, Device.Ordinal, unchecked((uint)seed)));
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
        _executor.Predict(features, count, outputs);
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
            _executor.Predict(features, batch.Count, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(outputs)[start..]);
        }
        return [.. outputs];
    }

    /// <summary>The index of each row's largest output (the predicted class; ties go to the first), as Keras users write <c>argmax(axis=-1)</c>.</summary>
    public int[] PredictedClasses(ReadOnlySpan<float> outputs)
    {
        if (outputs.Length % Info.OutputSize != 0)
        {
            throw new ArgumentException($"{outputs.Length} outputs are not whole rows of {Info.OutputSize}.", nameof(outputs));
        }
        var classes = new int[outputs.Length / Info.OutputSize];
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
        var outputs = Predict(data.Map(b =>
        {
            labels.AddRange(b.Labels.AsSpan(0, b.Count));
            return b;
        }), cancellationToken);
        return new ConfusionMatrix(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(labels), PredictedClasses(outputs), Info.OutputSize, classNames);
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

    /// <summary>The name of each row's predicted class, from <paramref name="classNames"/> (one per output).</summary>
    public string[] PredictedClassNames(ReadOnlySpan<float> outputs, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count != Info.OutputSize)
        {
            throw new ArgumentException($"{Info.Name} has {Info.OutputSize} outputs, but {classNames.Count} class names were given.", nameof(classNames));
        }
        return [.. PredictedClasses(outputs).Select(c => classNames[c])];
    }

    /// <summary>A copy of every trainable parameter, in <see cref="NetworkInfo.Parameters"/> order.</summary>
    public float[] GetParameters()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var values = new float[Info.ParameterCount];
        _executor.ReadParameters(values);
        return values;
    }

    public void SetParameters(ReadOnlySpan<float> values)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (values.Length != Info.ParameterCount)
        {
            throw new ArgumentException($"{Info.Name} has {Info.ParameterCount} parameters, but {values.Length} were given.", nameof(values));
        }
        _executor.WriteParameters(values);
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _executor.Dispose();
        }
        GC.SuppressFinalize(this);
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
