// A regression network whose last layer is a view.
using Kiln;
namespace Samples;

[Network(Loss = Loss.MeanSquaredError)]
[Input(4, 4, 1)]
[Conv2D(1, 3, Padding.Valid, Activation.Tanh)]
[Flatten]
public partial class FlattenHead;
