namespace Kiln;

/// <summary>
/// Base of every layer attribute. Layers run in the order the attributes are written. Attributes are read by Kiln's
/// source generator at compile time; at run time they are plain immutable data.
/// </summary>
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
    /// <summary>Whether the layer adds a bias (Keras' <c>use_bias</c>); turn it off before a BatchNormalization.</summary>
    public bool UseBias { get; set; } = true;
}

/// <summary>2-D convolution over a (height, width, channels) tensor with a square kernel.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class Conv2DAttribute(int filters, int kernelSize, Padding padding = Padding.Valid, Activation activation = Activation.Linear) : LayerAttribute
{
    public int Filters { get; } = filters;
    public int KernelSize { get; } = kernelSize;
    public Padding Padding { get; } = padding;
    public Activation Activation { get; } = activation;
    /// <summary>Step between kernel positions, in both directions (Keras' <c>strides</c>).</summary>
    public int Stride { get; set; } = 1;
    /// <summary>Whether the layer adds a bias (Keras' <c>use_bias</c>); turn it off before a BatchNormalization.</summary>
    public bool UseBias { get; set; } = true;
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

/// <summary>
/// Keras' <c>BatchNormalization</c> over the channels (the last axis), after a Dense or Conv2D layer. While training it
/// normalises with the batch's mean and biased variance and updates the moving statistics
/// (<c>moving = moving·momentum + batch·(1 − momentum)</c>); Evaluate and Predict use the moving statistics.
/// <c>gamma</c> and <c>beta</c> are trainable (dropped by <c>scale: false</c> / <c>center: false</c>);
/// <c>moving_mean</c> and <c>moving_variance</c> are non-trainable and saved with the weights. Keras' <c>axis</c> is
/// always the last one here.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BatchNormalizationAttribute(double momentum = 0.99, double epsilon = 0.001, bool center = true, bool scale = true) : LayerAttribute
{
    public double Momentum { get; } = momentum;
    public double Epsilon { get; } = epsilon;
    public bool Center { get; } = center;
    public bool Scale { get; } = scale;
}

/// <summary>
/// Average pooling over square windows, Keras' <c>AveragePooling2D</c>: <c>stride</c> 0 means the pool size (Keras'
/// <c>strides=None</c>); with <see cref="Padding.Same"/> each window divides by the cells inside the input.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AveragePooling2DAttribute(int poolSize = 2, int stride = 0, Padding padding = Padding.Valid) : LayerAttribute
{
    public int PoolSize { get; } = poolSize;
    public int Stride { get; } = stride;
    public Padding Padding { get; } = padding;
}

/// <summary>The mean of each channel over height and width: (h, w, c) → (c). Keras' <c>keepdims</c> is not offered.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GlobalAveragePooling2DAttribute : LayerAttribute;

/// <summary>The maximum of each channel over height and width (first maximum on ties): (h, w, c) → (c).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GlobalMaxPooling2DAttribute : LayerAttribute;

/// <summary>
/// Keras' <c>Activation</c> layer: applies <paramref name="activation"/> element-wise (LeakyReLU with slope 0.2 and
/// ELU with alpha 1, as Keras' functions). <see cref="Activation.Softmax"/> is allowed only as the last layer.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ActivationAttribute(Activation activation) : LayerAttribute
{
    public Activation Activation { get; } = activation;
}

/// <summary>Keras' <c>ReLU</c> layer with its defaults, <c>max(x, 0)</c> (<c>max_value</c>, <c>negative_slope</c> and <c>threshold</c> are not offered).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ReLUAttribute : LayerAttribute;

/// <summary>Keras' <c>LeakyReLU</c> layer: <c>x</c> if positive, else <c>negativeSlope·x</c> (Keras 3's default 0.3).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class LeakyReLUAttribute(double negativeSlope = 0.3) : LayerAttribute
{
    public double NegativeSlope { get; } = negativeSlope;
}

/// <summary>Keras' <c>ELU</c> layer: <c>x</c> if positive, else <c>alpha·(exp(x) − 1)</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ELUAttribute(double alpha = 1.0) : LayerAttribute
{
    public double Alpha { get; } = alpha;
}

/// <summary>
/// Keras' <c>Rescaling</c> preprocessing layer, <c>y = x·scale + offset</c>: <c>[Rescaling(1.0 / 255)]</c> lets raw
/// pixels in. Works on any input shape; it has no weights.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class RescalingAttribute(double scale, double offset = 0.0) : LayerAttribute
{
    public double Scale { get; } = scale;
    public double Offset { get; } = offset;
}
