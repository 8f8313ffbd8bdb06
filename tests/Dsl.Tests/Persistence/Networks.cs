namespace Kiln.Tests.Persistence;

/// <summary>
/// A small CNN: conv2d.kernel (3, 3, 1, 2), conv2d.bias (2), dense.kernel (72, 4), dense.bias (4),
/// dense_1.kernel (4, 3), dense_1.bias (3).
/// </summary>
[Network]
[Input(6, 6, 1)]
[Conv2D(2, 3, Padding.Same, Activation.Relu)]
[Flatten]
[Dense(4, Activation.Relu)]
[Dense(3, Activation.Softmax)]
public partial class SmallNet;

/// <summary>
/// SmallNet's layers and names with other sizes: conv2d.kernel (5, 5, 1, 3), conv2d.bias (3),
/// dense.kernel (108, 5), dense.bias (5), dense_1.kernel (5, 3); only dense_1.bias (3) matches.
/// </summary>
[Network]
[Input(6, 6, 1)]
[Conv2D(3, 5, Padding.Same, Activation.Relu)]
[Flatten]
[Dense(5, Activation.Relu)]
[Dense(3, Activation.Softmax)]
public partial class WiderNet;

/// <summary>SmallNet's shapes with two layers named explicitly: features.* and classifier.* instead of conv2d.* and dense_1.*.</summary>
[Network]
[Input(6, 6, 1)]
[Conv2D(2, 3, Padding.Same, Activation.Relu, Name = "features")]
[Flatten]
[Dense(4, Activation.Relu)]
[Dense(3, Activation.Softmax, Name = "classifier")]
public partial class RenamedNet;

/// <summary>The workshop's Iris network, for checkpoint tests that train several epochs quickly.</summary>
[Network]
[Input(4)]
[Dense(10, Activation.Relu)]
[Dense(10, Activation.Relu)]
[Dense(3, Activation.Softmax)]
public partial class IrisClassifier;
