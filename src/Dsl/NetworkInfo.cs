namespace Kiln;

/// <summary>What the generator knows about a network, handed to the runtime.</summary>
public sealed class NetworkInfo(string name, int[] inputShape, int outputSize, Loss loss, string summary, ParameterInfo[] parameters)
{
    public string Name { get; } = name;
    /// <summary>Per-example input shape: (features) or (height, width, channels).</summary>
    public IReadOnlyList<int> InputShape { get; } = inputShape;
    public int InputSize { get; } = inputShape.Aggregate(1, (a, b) => a * b);
    public int OutputSize { get; } = outputSize;
    public Loss Loss { get; } = loss;
    public string Summary { get; } = summary;
    /// <summary>Every trainable tensor, in the order they sit in the flat parameter buffer.</summary>
    public IReadOnlyList<ParameterInfo> Parameters { get; } = parameters;
    public int ParameterCount { get; } = parameters.Sum(p => p.Length);
    /// <summary>Whether accuracy is a meaningful metric (classification losses).</summary>
    public bool HasAccuracy => Loss != Loss.MeanSquaredError;
}

/// <summary>One trainable tensor: its saved name, shape, place in the flat buffer, and Glorot fans for kernels.</summary>
public sealed class ParameterInfo(string name, int[] shape, int offset, int fanIn = 0, int fanOut = 0)
{
    public string Name { get; } = name;
    public IReadOnlyList<int> Shape { get; } = shape;
    public int Offset { get; } = offset;
    public int Length { get; } = shape.Aggregate(1, (a, b) => a * b);
    public int FanIn { get; } = fanIn;
    public int FanOut { get; } = fanOut;
    /// <summary>Kernels get Glorot-uniform values; biases start at zero.</summary>
    public bool IsKernel => FanIn > 0;
}
