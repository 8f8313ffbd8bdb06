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

/// <summary>The Kiln twin of the PyTorch module in <see cref="PyTorchPeerTests"/>: non-square maps, so the flatten order matters.</summary>
[Network]
[Input(12, 10, 2)]
[Conv2D(4, 3, Padding.Same, Activation.Relu)]
[MaxPool2D(2, 2)]
[Conv2D(6, 2, Padding.Valid, Activation.Tanh, Stride = 2)]
[Flatten]
[Dense(16, Activation.Relu)]
[Dense(3, Activation.Softmax, Name = "head")]
internal partial class TorchPeerNet;
