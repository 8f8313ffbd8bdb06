using Kiln;
namespace Samples;

/// <summary>Binary crossentropy on one sigmoid unit: the loss applies the sigmoid to the logits (KLN0011 before).</summary>
[Network(Loss = Loss.BinaryCrossentropy)]
[Input(2)]
[Dense(8, Activation.Tanh)]
[Dense(1, Activation.Sigmoid)]
public partial class BinaryHead;
