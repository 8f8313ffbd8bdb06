namespace Kiln.Generator.Tests;

/// <summary>Network declarations shared by the snapshot, compile and CUDA tests.</summary>
public static class SampleNetworks
{
    public const string Iris = """
        using Kiln;
        namespace Samples;

        [Network]
        [Input(4)]
        [Dense(10, Activation.Relu)]
        [Dense(10, Activation.Relu)]
        [Dense(3, Activation.Softmax)]
        public partial class IrisNet;
        """;

    public const string MnistCnn = """
        using Kiln;
        namespace Samples;

        [Network]
        [Input(28, 28, 1)]
        [Conv2D(16, 5, Padding.Same, Activation.Relu)]
        [MaxPool2D(2, 2, Padding.Same)]
        [Conv2D(32, 5, Padding.Same, Activation.Relu)]
        [MaxPool2D(2, 2, Padding.Same)]
        [Flatten]
        [Dense(128, Activation.Relu)]
        [Dropout(0.4)]
        [Dense(10, Activation.Softmax)]
        public partial class MnistCnn;
        """;

    /// <summary>Valid padding with stride 2 on a 3-channel input, categorical targets.</summary>
    public const string StridedValid = """
        using Kiln;
        namespace Samples.Odd;

        [Network(Loss = Loss.CategoricalCrossentropy)]
        [Input(9, 11, 3)]
        [Conv2D(4, 3, Padding.Valid, Activation.Tanh, Stride = 2)]
        [Flatten]
        [Dense(5, Activation.Softmax, Name = "head")]
        internal partial class StridedValidNet;
        """;

    /// <summary>Odd sizes through same-padded pooling (overlapping windows), dropout, and a regression head.</summary>
    public const string OddPooling = """
        using Kiln;

        [Network(Loss = Loss.MeanSquaredError)]
        [Input(7, 7, 2)]
        [Conv2D(3, 3, Padding.Same, Activation.Sigmoid)]
        [MaxPool2D(2, 2, Padding.Same)]
        [MaxPool2D(3, 2, Padding.Same)]
        [Flatten]
        [Dropout(0.25)]
        [Dense(4, Activation.Tanh)]
        public partial class OddPoolingNet;
        """;

    /// <summary>The workshop CNN's modern form: Conv-BN-ReLU blocks without bias before BN, global average pooling.</summary>
    public const string ModernCnn = """
        using Kiln;
        namespace Samples;

        [Network]
        [Input(28, 28, 1)]
        [Conv2D(16, 3, Padding.Same, UseBias = false)]
        [BatchNormalization]
        [ReLU]
        [MaxPool2D(2)]
        [Conv2D(32, 3, Padding.Same, UseBias = false)]
        [BatchNormalization]
        [Activation(Activation.Relu)]
        [GlobalAveragePooling2D]
        [Dense(10, Activation.Softmax)]
        public partial class ModernCnn;
        """;

    /// <summary>Every other layer kind and activation once, on odd shapes, ending in a view and a softmax layer.</summary>
    public const string LayerZoo = """
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
        """;

    /// <summary>A regression network whose last layer is a view.</summary>
    public const string FlattenHead = """
        using Kiln;
        namespace Samples;

        [Network(Loss = Loss.MeanSquaredError)]
        [Input(4, 4, 1)]
        [Conv2D(1, 3, Padding.Valid, Activation.Tanh)]
        [Flatten]
        public partial class FlattenHead;
        """;

    public static readonly IReadOnlyDictionary<string, string> All = new Dictionary<string, string>
    {
        [nameof(Iris)] = Iris,
        [nameof(MnistCnn)] = MnistCnn,
        [nameof(StridedValid)] = StridedValid,
        [nameof(OddPooling)] = OddPooling,
        [nameof(ModernCnn)] = ModernCnn,
        [nameof(LayerZoo)] = LayerZoo,
        [nameof(FlattenHead)] = FlattenHead,
    };
}
