namespace Kiln;

/// <summary>
/// What the generator knows about a network, handed to the runtime. Immutable: safe to read from any thread.
/// </summary>
public sealed class NetworkInfo(string name, int[] inputShape, int outputSize, Loss loss, string summary, ParameterInfo[] parameters, LayerInfo[]? layers = null)
{
    public string Name { get; } = name;
    /// <summary>Per-example input shape: (features) or (height, width, channels).</summary>
    public IReadOnlyList<int> InputShape { get; } = inputShape;
    public int InputSize { get; } = inputShape.Aggregate(1, (a, b) => a * b);
    public int OutputSize { get; } = outputSize;
    public Loss Loss { get; } = loss;
    public string Summary { get; } = summary;
    /// <summary>
    /// Every tensor, in the order they sit in the flat parameter buffer: the trainable ones first, then the
    /// non-trainable ones (BatchNormalization's moving statistics), so optimizers step over a prefix.
    /// </summary>
    public IReadOnlyList<ParameterInfo> Parameters { get; } = parameters;
    /// <summary>Floats in the flat parameter buffer, trainable and non-trainable.</summary>
    public int ParameterCount { get; } = parameters.Sum(p => p.Length);
    /// <summary>Floats the optimizer updates: the prefix <c>[0, TrainableParameterCount)</c> of the flat buffer.</summary>
    public int TrainableParameterCount { get; } = parameters.Where(p => p.Trainable).Sum(p => p.Length);
    /// <summary>Every layer after the input, in order (empty for hand-built infos).</summary>
    public IReadOnlyList<LayerInfo> Layers { get; } = layers ?? [];
    /// <summary>Whether accuracy is a meaningful metric (classification losses); regressions report <c>mae</c> instead.</summary>
    public bool HasAccuracy => Loss is not (Loss.MeanSquaredError or Loss.MeanAbsoluteError);
}

/// <summary>How a tensor starts before training.</summary>
public enum ParameterInit
{
    /// <summary>Glorot-uniform from the network's seed (kernels).</summary>
    GlorotUniform,
    /// <summary>All zeros (biases, BatchNormalization's beta and moving mean).</summary>
    Zeros,
    /// <summary>All ones (BatchNormalization's gamma and moving variance).</summary>
    Ones,
}

/// <summary>
/// One tensor: its saved name, shape, place in the flat buffer, how it starts, and whether the optimizer updates it.
/// Immutable: safe to read from any thread.
/// </summary>
public sealed class ParameterInfo(string name, int[] shape, int offset, int fanIn = 0, int fanOut = 0, ParameterInit? init = null, bool trainable = true)
{
    public string Name { get; } = name;
    public IReadOnlyList<int> Shape { get; } = shape;
    public int Offset { get; } = offset;
    public int Length { get; } = shape.Aggregate(1, (a, b) => a * b);
    public int FanIn { get; } = fanIn;
    public int FanOut { get; } = fanOut;
    /// <summary>How the tensor starts: Glorot-uniform when fans are given, zeros otherwise, unless stated.</summary>
    public ParameterInit Init { get; } = init ?? (fanIn > 0 ? ParameterInit.GlorotUniform : ParameterInit.Zeros);
    /// <summary>False for state the forward pass updates itself (moving mean and variance).</summary>
    public bool Trainable { get; } = trainable;
    /// <summary>Kernels get Glorot-uniform values.</summary>
    public bool IsKernel => Init == ParameterInit.GlorotUniform;
}
