using Kiln;
namespace Samples;

/// <summary>Three independent labels trained on logits (Keras' <c>from_logits=True</c>) behind an activation layer.</summary>
[Network(Loss = Loss.BinaryCrossentropy, FromLogits = true)]
[Input(5)]
[Dense(6)]
[Activation(Activation.Elu)]
[Dense(3)]
public partial class MultiLabelLogits;
