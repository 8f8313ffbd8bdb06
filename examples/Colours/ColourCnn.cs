using Kiln;

namespace Colours;

/// <summary>A small CNN for 32×32 colour pictures of up to ten classes (the output size is fixed when the class is compiled).</summary>
[Network]
[Input(32, 32, 3)]
[Conv2D(16, 3, Padding.Same, Activation.Relu)]
[MaxPool2D(2, 2, Padding.Same)]
[Conv2D(32, 3, Padding.Same, Activation.Relu)]
[MaxPool2D(2, 2, Padding.Same)]
[Flatten]
[Dense(64, Activation.Relu)]
[Dense(10, Activation.Softmax)]
public partial class ColourCnn;
