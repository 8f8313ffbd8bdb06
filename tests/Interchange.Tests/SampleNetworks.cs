namespace Kiln.Interchange.Tests;

/// <summary>The generator tests' odd sample networks (tests/Generator.Tests/SampleNetworks.cs), compiled.</summary>
[Network(Loss = Loss.CategoricalCrossentropy)]
[Input(9, 11, 3)]
[Conv2D(4, 3, Padding.Valid, Activation.Tanh, Stride = 2)]
[Flatten]
[Dense(5, Activation.Softmax, Name = "head")]
internal partial class StridedValidNet;

/// <summary>Odd sizes through same-padded pooling (overlapping windows), dropout, and a regression head.</summary>
[Network(Loss = Loss.MeanSquaredError)]
[Input(7, 7, 2)]
[Conv2D(3, 3, Padding.Same, Activation.Sigmoid)]
[MaxPool2D(2, 2, Padding.Same)]
[MaxPool2D(3, 2, Padding.Same)]
[Flatten]
[Dropout(0.25)]
[Dense(4, Activation.Tanh)]
internal partial class OddPoolingNet;

/// <summary>A strided same convolution with an even kernel (padding 1 before, 2 after), straight into a linear head.</summary>
[Network(Loss = Loss.MeanSquaredError)]
[Input(10, 9, 2)]
[Conv2D(3, 4, Padding.Same, Activation.Relu, Stride = 2)]
[Flatten]
[Dense(3, Activation.Linear)]
internal partial class EvenKernelNet;

/// <summary>The Kiln twin of the PyTorch module in <see cref="PyTorchPeerTests"/>: non-square maps, so the flatten order
/// matters, and BatchNormalization with PyTorch's epsilon on images and right after the Flatten.</summary>
[Network]
[Input(12, 10, 2)]
[Conv2D(4, 3, Padding.Same, UseBias = false)]
[BatchNormalization(epsilon: 1e-5)]
[ReLU]
[MaxPool2D(2, 2)]
[Conv2D(6, 2, Padding.Valid, Activation.Tanh, Stride = 2)]
[Flatten]
[BatchNormalization(epsilon: 1e-5)]
[Dense(16, Activation.Relu)]
[Dense(3, Activation.Softmax, Name = "head")]
internal partial class TorchPeerNet;

/// <summary>tests/Generator.Tests/SampleNetworks.cs' ModernCnn: bias-free convolutions, BatchNormalization, ReLU, a global pool.</summary>
[Network]
[Input(28, 28, 1)]
[Conv2D(16, 3, Padding.Same, UseBias = false)]
[BatchNormalization]
[ReLU]
[MaxPool2D(2)]
[Conv2D(32, 3, Padding.Same, UseBias = false)]
[BatchNormalization]
[Activation(Activation.Relu)]
[GlobalAveragePooling2D]
[Dense(10, Activation.Softmax)]
internal partial class ModernCnn;

/// <summary>tests/Generator.Tests/SampleNetworks.cs' LayerZoo: every other layer kind and activation once, on odd shapes.</summary>
[Network]
[Input(9, 7, 2)]
[Rescaling(0.5, 0.25)]
[Conv2D(4, 3, Padding.Same, Activation.Gelu)]
[AveragePooling2D(2, padding: Padding.Same)]
[LeakyReLU(0.1)]
[Conv2D(3, 3, Padding.Valid, Activation.Swish, UseBias = false)]
[ELU(0.5)]
[GlobalMaxPooling2D]
[Dense(6, Activation.Softplus)]
[BatchNormalization(momentum: 0.9, center: false)]
[Activation(Activation.Elu)]
[Dense(5, Activation.LeakyRelu)]
[Activation(Activation.Sigmoid)]
[Dense(3)]
[Activation(Activation.Softmax)]
internal partial class LayerZoo;

/// <summary>tests/Generator.Tests/SampleNetworks.cs' FlattenHead: the last layer is a view.</summary>
[Network(Loss = Loss.MeanSquaredError)]
[Input(4, 4, 1)]
[Conv2D(1, 3, Padding.Valid, Activation.Tanh)]
[Flatten]
internal partial class FlattenHead;

/// <summary>An overlapping same average pool padded at both ends (Keras divides by the cells inside), BatchNormalization
/// on images without scale, a flattened head without bias.</summary>
[Network(Loss = Loss.MeanSquaredError)]
[Input(7, 7, 3)]
[Conv2D(4, 3, Padding.Same, Activation.Elu)]
[BatchNormalization(epsilon: 1e-5, scale: false)]
[AveragePooling2D(3, 2, Padding.Same)]
[Activation(Activation.Swish)]
[Flatten]
[Dense(4, Activation.Gelu, UseBias = false)]
internal partial class PaddedPoolNet;
