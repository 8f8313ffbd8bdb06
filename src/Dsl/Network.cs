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
