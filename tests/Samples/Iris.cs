using Kiln;
namespace Samples;

[Network]
[Input(4)]
[Dense(10, Activation.Relu)]
[Dense(10, Activation.Relu)]
[Dense(3, Activation.Softmax)]
public partial class IrisNet;
