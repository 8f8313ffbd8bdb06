namespace Kiln;

/// <summary>
/// Element-wise function applied after a layer's affine part (the <c>activation</c> argument of Dense and Conv2D),
/// or by an <c>[Activation]</c> layer. Formulas and defaults are Keras 3's <c>keras.activations</c>.
/// </summary>
public enum Activation
{
    /// <summary><c>x</c>.</summary>
    Linear,
    /// <summary><c>max(x, 0)</c>.</summary>
    Relu,
    /// <summary><c>1 / (1 + exp(-x))</c>.</summary>
    Sigmoid,
    /// <summary><c>tanh(x)</c>.</summary>
    Tanh,
    /// <summary>Only valid on the last layer; fused with crossentropy during training.</summary>
    Softmax,
    /// <summary><c>x</c> if <c>x &gt; 0</c>, else <c>0.2·x</c> (Keras' <c>leaky_relu</c> default slope; the
    /// <c>[LeakyReLU]</c> layer takes its own).</summary>
    LeakyRelu,
    /// <summary><c>x</c> if <c>x &gt; 0</c>, else <c>exp(x) − 1</c> (alpha 1; the <c>[ELU]</c> layer takes its own).</summary>
    Elu,
    /// <summary>Exact GELU, <c>x·Φ(x)</c> with the normal CDF (Keras' default <c>approximate=False</c>).</summary>
    Gelu,
    /// <summary>Swish / SiLU, <c>x·sigmoid(x)</c>.</summary>
    Swish,
    /// <summary><c>log(1 + exp(x))</c>.</summary>
    Softplus,
}

/// <summary>Border handling for convolution and pooling, with Keras' arithmetic.</summary>
public enum Padding
{
    /// <summary>No padding: <c>out = floor((in - size) / stride) + 1</c>.</summary>
    Valid,
    /// <summary>Zero padding: <c>out = ceil(in / stride)</c>, odd padding goes at the end.</summary>
    Same,
}

/// <summary>Training objective of a network.</summary>
public enum Loss
{
    /// <summary>Labels are class indices; requires a softmax output.</summary>
    SparseCategoricalCrossentropy,
    /// <summary>Targets are probability vectors (usually one-hot); requires a softmax output.</summary>
    CategoricalCrossentropy,
    /// <summary>Targets are real vectors the size of the output; reports Keras' <c>mae</c> metric instead of accuracy.</summary>
    MeanSquaredError,
    /// <summary>
    /// Keras' <c>binary_crossentropy</c>: targets are 0/1 floats the size of the output, one independent yes/no per
    /// output (one unit for two classes, several for multi-label). Requires a sigmoid output, which the loss applies
    /// to the logits itself in the stable form <c>max(z, 0) − z·t + log(1 + e^−|z|)</c> (as Keras does with a sigmoid
    /// output on TensorFlow), or a linear one with <see cref="NetworkAttribute.FromLogits"/>. Accuracy is Keras'
    /// binary accuracy: the share of outputs whose probability is above 0.5 exactly when the target is.
    /// </summary>
    BinaryCrossentropy,
    /// <summary>
    /// Keras' <c>mean_absolute_error</c>: targets are real vectors the size of the output; per example the mean of
    /// |output − target|, with gradient sign(output − target) (0 where they are equal). Reports <c>mae</c>.
    /// </summary>
    MeanAbsoluteError,
}
