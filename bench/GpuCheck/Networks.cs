using Kiln;

namespace GpuCheck;

// Declared exactly as examples/Iris/IrisNet.cs and examples/Mnist/MnistCnn.cs.

/// <summary>The workshop's Iris classifier: 4 measurements → 10 → 10 → 3 species.</summary>
[Network]
[Input(4)]
[Dense(10, Activation.Relu)]
[Dense(10, Activation.Relu)]
[Dense(3, Activation.Softmax)]
public partial class IrisNet;

/// <summary>The workshop's convolutional network for 28×28 grey-level digits.</summary>
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
