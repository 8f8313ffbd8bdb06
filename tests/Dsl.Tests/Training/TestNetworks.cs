namespace Kiln.Tests.Training;

[Network]
[Input(4)]
[Dense(10, Activation.Relu)]
[Dense(10, Activation.Relu)]
[Dense(3, Activation.Softmax)]
public partial class IrisNet;

/// <summary>A regression head: sigmoid output and mean squared error.</summary>
[Network(Loss = Loss.MeanSquaredError)]
[Input(2)]
[Dense(16, Activation.Tanh)]
[Dense(1, Activation.Sigmoid)]
public partial class XorNet;

/// <summary>One-hot targets through categorical crossentropy, with dropout in the middle.</summary>
[Network(Loss = Loss.CategoricalCrossentropy)]
[Input(4)]
[Dense(16, Activation.Relu)]
[Dropout(0.3)]
[Dense(3, Activation.Softmax)]
public partial class OneHotIrisNet;
