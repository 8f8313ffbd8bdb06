// Every other layer kind and activation once, on odd shapes, ending in a view and a softmax layer.
using Kiln;
namespace Samples;

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
