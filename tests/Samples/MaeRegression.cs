using Kiln;
namespace Samples;

/// <summary>A regression trained on mean absolute error.</summary>
[Network(Loss = Loss.MeanAbsoluteError)]
[Input(6)]
[Dense(4, Activation.Relu)]
[Dense(2)]
public partial class MaeRegression;
