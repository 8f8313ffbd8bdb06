namespace Kiln.Interchange.Tests;

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

/// <summary>Both inference folds of BatchNormalization into the convolution before it: through a max pool with a leaky
/// ReLU (applied after the pool), and into a convolution with a bias whose normalisation has no beta, with a ReLU.</summary>
[Network]
[Input(9, 8, 2)]
[Conv2D(4, 3, Padding.Same, UseBias = false)]
[BatchNormalization(epsilon: 1e-4)]
[LeakyReLU(0.2)]
[MaxPool2D(2, 2)]
[Conv2D(8, 3, Padding.Same)]
[BatchNormalization(center: false)]
[ReLU]
[Flatten]
[Dense(3, Activation.Softmax)]
internal partial class FoldedNet;
