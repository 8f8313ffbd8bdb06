// Odd sizes through same-padded pooling (overlapping windows), dropout, and a regression head.
using Kiln;

[Network(Loss = Loss.MeanSquaredError)]
[Input(7, 7, 2)]
[Conv2D(3, 3, Padding.Same, Activation.Sigmoid)]
[MaxPool2D(2, 2, Padding.Same)]
[MaxPool2D(3, 2, Padding.Same)]
[Flatten]
[Dropout(0.25)]
[Dense(4, Activation.Tanh)]
public partial class OddPoolingNet;
