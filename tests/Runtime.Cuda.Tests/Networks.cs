namespace Kiln.Runtime.Cuda.Tests;

/// <summary>Template instantiations of the kernel library for the networks the workshop uses, as name expressions.</summary>
internal static class Networks
{
    private static IEnumerable<string> Dense(int inF, int outF, int act) =>
    [
        $"kiln::dense_forward<{inF},{outF},{act}>",
        $"kiln::dense_backward_data<{inF},{outF}>",
        $"kiln::dense_backward_weights<{inF},{outF}>",
        $"kiln::activation_backward<{outF},{act}>",
    ];

    private static IEnumerable<string> Conv(int inH, int inW, int inC, int outH, int outW, int outC, int k, int s, int padTop, int padLeft, int act)
    {
        var shape = $"{inH},{inW},{inC},{outH},{outW},{outC},{k},{s},{padTop},{padLeft}";
        return
        [
            $"kiln::conv2d_forward<{shape},{act}>",
            $"kiln::conv2d_backward_data<{shape}>",
            $"kiln::conv2d_backward_weights<{shape}>",
            $"kiln::conv2d_weight_grad_reduce<{k * k * inC * outC},{outC}>",
            $"kiln::activation_backward<{outH * outW * outC},{act}>",
        ];
    }

    private static IEnumerable<string> Pool(int inH, int inW, int c, int outH, int outW, int k, int s, int padTop, int padLeft)
    {
        var shape = $"{inH},{inW},{c},{outH},{outW},{k},{s},{padTop},{padLeft}";
        return [$"kiln::maxpool2d_forward<{shape}>", $"kiln::maxpool2d_backward<{shape}>"];
    }

    private static IEnumerable<string> Classifier(int classes) =>
    [
        $"kiln::softmax_xent_sparse<{classes}>",
        $"kiln::softmax_xent_dense<{classes}>",
        $"kiln::softmax_forward<{classes}>",
        "kiln::loss_accumulate",
        "kiln::clip_value",
        "kiln::clip_norm",
        "kiln::clip_global_norm",
        "kiln::adam",
        "kiln::sgd",
        "kiln::rmsprop",
        "kiln::adagrad",
    ];

    /// <summary>Iris: Dense 4→10 relu, 10→10 relu, 10→3 softmax.</summary>
    public static readonly string[] Iris =
    [
        .. Dense(4, 10, 1), .. Dense(10, 10, 1), .. Dense(10, 3, 0), .. Classifier(3),
    ];

    /// <summary>MNIST CNN: conv 16 k5 same relu, maxpool 2, conv 32 k5 same relu, maxpool 2, dense 1568→128 relu, dropout, dense 128→10 softmax.</summary>
    public static readonly string[] Mnist =
    [
        .. Conv(28, 28, 1, 28, 28, 16, 5, 1, 2, 2, 1),
        .. Pool(28, 28, 16, 14, 14, 2, 2, 0, 0),
        .. Conv(14, 14, 16, 14, 14, 32, 5, 1, 2, 2, 1),
        .. Pool(14, 14, 32, 7, 7, 2, 2, 0, 0),
        .. Dense(1568, 128, 1),
        "kiln::dropout_forward<128>", "kiln::dropout_backward<128>",
        .. Dense(128, 10, 0),
        .. Classifier(10),
    ];

    /// <summary>Odd shapes: valid conv k3 s2 tanh on 9×11×3 (→ 4×5×4), same conv k3 s2 sigmoid (→ 5×6×4), same 3×3 s2 max-pool (→ 3×3×4), MSE.</summary>
    public static readonly string[] Odd =
    [
        .. Conv(9, 11, 3, 4, 5, 4, 3, 2, 0, 0, 3),
        .. Conv(9, 11, 3, 5, 6, 4, 3, 2, 1, 1, 2),
        .. Pool(5, 6, 4, 3, 3, 3, 2, 1, 0),
        .. Dense(36, 3, 0),
        "kiln::activation_forward<60,2>",
        "kiln::mse<3>",
        "kiln::loss_accumulate",
    ];

    private static IEnumerable<string> BatchNorm(int channels) =>
    [
        $"kiln::batchnorm_sums<{channels}>", $"kiln::batchnorm_square_sums<{channels}>", $"kiln::batchnorm_variance<{channels}>",
        $"kiln::batchnorm_normalize<{channels}>", $"kiln::batchnorm_inference<{channels}>", $"kiln::batchnorm_backward_sums<{channels}>",
        $"kiln::batchnorm_backward_params<{channels}>", $"kiln::batchnorm_backward_data<{channels}>",
    ];

    private static IEnumerable<string> AvgPool(string shape) => [$"kiln::avgpool2d_forward<{shape}>", $"kiln::avgpool2d_backward<{shape}>"];

    private static IEnumerable<string> GlobalPools(int pixels, int channels) =>
    [
        $"kiln::global_avgpool2d_forward<{pixels},{channels}>", $"kiln::global_avgpool2d_backward<{pixels},{channels}>",
        $"kiln::global_maxpool2d_forward<{pixels},{channels}>", $"kiln::global_maxpool2d_backward<{pixels},{channels}>",
    ];

    // Every element-wise activation code: 4 is softmax. Gelu (7) and Swish (8) have no backward from the output.
    private static readonly int[] ActivationCodes = [0, 1, 2, 3, 5, 6, 7, 8, 9];

    private static IEnumerable<string> ActivationLayers(int features) => ActivationCodes.SelectMany(a => new[]
    {
        $"kiln::activation_layer_forward<{features},{a}>", $"kiln::activation_layer_backward<{features},{a}>",
    });

    /// <summary>
    /// The layers of issue 14 on a modern CNN: rescaling, conv (every fused activation code) → batch norm (16 channels
    /// at 28×28, 37 after a dense layer) → standalone activations, average pools (same 7×7 → 4×4, valid 3×3 s2), global
    /// average and max pools over 7×7×32.
    /// </summary>
    public static readonly string[] Layers =
    [
        "kiln::rescaling_forward<784>", "kiln::rescaling_backward<784>",
        .. ActivationCodes.Select(a => $"kiln::conv2d_forward<28,28,1,28,28,16,3,1,1,1,{a}>"),
        .. ActivationCodes.Select(a => $"kiln::dense_forward<19,37,{a}>"),
        .. ActivationCodes.Where(a => a is not (7 or 8)).Select(a => $"kiln::activation_backward<37,{a}>"),
        .. BatchNorm(16), .. BatchNorm(37),
        .. ActivationLayers(28 * 28 * 16), .. ActivationLayers(37),
        .. AvgPool("28,28,16,14,14,2,2,0,0"), .. AvgPool("7,7,32,4,4,2,2,0,0"), .. AvgPool("9,9,5,4,4,3,2,0,0"),
        .. GlobalPools(49, 32), .. GlobalPools(1, 5),
    ];

    public static string[] All => [.. Iris.Concat(Mnist).Concat(Odd).Concat(Layers).Distinct()];
}
