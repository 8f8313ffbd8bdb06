using Kiln;

namespace Kiln.Runtime.Cuda.Tests.Samples;

// The networks of tests/Generator.Tests/SampleNetworks.cs, declared for real so that the generator runs on them in
// this build; GeneratedKernelTests checks that their kernels are the ones in the generator's snapshots.

[Network]
[Input(4)]
[Dense(10, Activation.Relu)]
[Dense(10, Activation.Relu)]
[Dense(3, Activation.Softmax)]
public partial class IrisNet;

[Network]
[Input(28, 28, 1)]
[Conv2D(16, 5, Padding.Same, Activation.Relu)]
[MaxPool2D(2, 2, Padding.Same)]
[Conv2D(32, 5, Padding.Same, Activation.Relu)]
[MaxPool2D(2, 2, Padding.Same)]
[Flatten]
[Dense(128, Activation.Relu)]
[Dropout(0.4)]
[Dense(10, Activation.Softmax)]
public partial class MnistCnn;

[Network(Loss = Loss.CategoricalCrossentropy)]
[Input(9, 11, 3)]
[Conv2D(4, 3, Padding.Valid, Activation.Tanh, Stride = 2)]
[Flatten]
[Dense(5, Activation.Softmax, Name = "head")]
internal partial class StridedValidNet;

[Network(Loss = Loss.MeanSquaredError)]
[Input(7, 7, 2)]
[Conv2D(3, 3, Padding.Same, Activation.Sigmoid)]
[MaxPool2D(2, 2, Padding.Same)]
[MaxPool2D(3, 2, Padding.Same)]
[Flatten]
[Dropout(0.25)]
[Dense(4, Activation.Tanh)]
public partial class OddPoolingNet;

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
public partial class ModernCnn;

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
public partial class LayerZoo;

[Network(Loss = Loss.MeanSquaredError)]
[Input(4, 4, 1)]
[Conv2D(1, 3, Padding.Valid, Activation.Tanh)]
[Flatten]
public partial class FlattenHead;
