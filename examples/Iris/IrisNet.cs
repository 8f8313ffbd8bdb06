using Kiln;

namespace Iris;

/// <summary>The workshop's Iris classifier: 4 measurements → 10 → 10 → 3 species.</summary>
[Network]
[Input(4)]
[Dense(10, Activation.Relu)]
[Dense(10, Activation.Relu)]
[Dense(3, Activation.Softmax)]
public partial class IrisNet;
