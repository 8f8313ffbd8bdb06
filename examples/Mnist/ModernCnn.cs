using Kiln;

namespace Mnist;

/// <summary>
/// The workshop CNN as networks are written today: Conv → BatchNormalization → ReLU blocks (no bias before the
/// normalisation, which has its own beta), global average pooling instead of Flatten and a large Dense layer.
/// </summary>
[Network]
[Input(28, 28, 1)]
[Conv2D(16, 3, Padding.Same, UseBias = false)]
[BatchNormalization(momentum: 0.9)]
[ReLU]
[MaxPool2D(2)]
[Conv2D(32, 3, Padding.Same, UseBias = false)]
[BatchNormalization(momentum: 0.9)]
[ReLU]
[MaxPool2D(2)]
[Conv2D(64, 3, Padding.Same, UseBias = false)]
[BatchNormalization(momentum: 0.9)]
[ReLU]
[GlobalAveragePooling2D]
[Dense(10, Activation.Softmax)]
public partial class ModernCnn;
