// The workshop CNN's modern form: Conv-BN-ReLU blocks without bias before BN, global average pooling.
using Kiln;
namespace Samples;

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
