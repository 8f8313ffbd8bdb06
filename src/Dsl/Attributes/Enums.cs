namespace Kiln;

/// <summary>Element-wise function applied after a layer's affine part.</summary>
public enum Activation
{
    Linear,
    Relu,
    Sigmoid,
    Tanh,
    /// <summary>Only valid on the last layer; fused with crossentropy during training.</summary>
    Softmax,
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
    /// <summary>Targets are real vectors the size of the output.</summary>
    MeanSquaredError,
}
