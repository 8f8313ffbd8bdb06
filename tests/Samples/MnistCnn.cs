using Kiln;
namespace Samples;

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
