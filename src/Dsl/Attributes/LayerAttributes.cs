namespace Kiln;

/// <summary>Base of every layer attribute. Layers run in the order the attributes are written.</summary>
public abstract class LayerAttribute : Attribute
{
    /// <summary>Layer name used in the summary and for saved tensors; Keras-style (<c>dense_1</c>) when omitted.</summary>
    public string? Name { get; set; }
}

/// <summary>The network's input: <c>Input(features)</c> or <c>Input(height, width, channels)</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class InputAttribute(params int[] shape) : LayerAttribute
{
    public int[] Shape { get; } = shape;
}

/// <summary>Fully connected layer on a vector: <c>y = activation(x·W + b)</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DenseAttribute(int units, Activation activation = Activation.Linear) : LayerAttribute
{
    public int Units { get; } = units;
    public Activation Activation { get; } = activation;
}

/// <summary>2-D convolution over a (height, width, channels) tensor with a square kernel.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class Conv2DAttribute(int filters, int kernelSize, Padding padding = Padding.Valid, Activation activation = Activation.Linear) : LayerAttribute
{
    public int Filters { get; } = filters;
    public int KernelSize { get; } = kernelSize;
    public Padding Padding { get; } = padding;
    public Activation Activation { get; } = activation;
    /// <summary>Step between kernel positions, in both directions.</summary>
    public int Stride { get; set; } = 1;
}

/// <summary>Max pooling over square windows; <c>stride</c> defaults to the pool size, as in Keras.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MaxPool2DAttribute(int poolSize, int stride = 0, Padding padding = Padding.Valid) : LayerAttribute
{
    public int PoolSize { get; } = poolSize;
    /// <summary>0 means "same as <see cref="PoolSize"/>".</summary>
    public int Stride { get; } = stride;
    public Padding Padding { get; } = padding;
}

/// <summary>Reshapes a (height, width, channels) tensor to a vector in row-major (channels-last) order.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class FlattenAttribute : LayerAttribute;

/// <summary>Inverted dropout: while training, zeroes each element with probability <c>rate</c> and scales the rest by 1/(1-rate).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DropoutAttribute(double rate) : LayerAttribute
{
    public double Rate { get; } = rate;
}
