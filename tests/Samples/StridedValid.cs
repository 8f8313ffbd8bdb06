// Network declarations shared by the snapshot, compile and CUDA tests.</summary> public static class SampleNetworks { public const string Iris = """ using Kiln; namespace Samples; [Network] [Input(4)] [Dense(10, Activation.Relu)] [Dense(10, Activation.Relu)] [Dense(3, Activation.Softmax)] public partial class IrisNet; """; public const string MnistCnn = """ using Kiln; namespace Samples; [Network] [Input(28, 28, 1)] [Conv2D(16, 5, Padding.Same, Activation.Relu)] [MaxPool2D(2, 2, Padding.Same)] [Conv2D(32, 5, Padding.Same, Activation.Relu)] [MaxPool2D(2, 2, Padding.Same)] [Flatten] [Dense(128, Activation.Relu)] [Dropout(0.4)] [Dense(10, Activation.Softmax)] public partial class MnistCnn; """; /// <summary>Valid padding with stride 2 on a 3-channel input, categorical targets.
using Kiln;
namespace Samples.Odd;

[Network(Loss = Loss.CategoricalCrossentropy)]
[Input(9, 11, 3)]
[Conv2D(4, 3, Padding.Valid, Activation.Tanh, Stride = 2)]
[Flatten]
[Dense(5, Activation.Softmax, Name = "head")]
internal partial class StridedValidNet;
