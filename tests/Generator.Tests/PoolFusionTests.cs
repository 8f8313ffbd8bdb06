namespace Kiln.Generator.Tests;

/// <summary>
/// The CPU backward of a Conv2D directly followed by a MaxPool2D goes through a sparse PooledGradient; every other
/// sequence keeps the dense activation-backward + convolution-backward calls.
/// </summary>
public class PoolFusionTests
{
    private const string Cpu = "global::Kiln.Runtime.Cpu";

    [Fact]
    public void A_convolution_feeding_a_pool_backpropagates_through_a_pooled_gradient()
    {
        var files = GeneratorHarness.Run(SampleNetworks.MnistCnn).Files;
        var code = files["Samples.MnistCnn.g.cs"];

        Assert.Contains($"_d_conv2d_1_pooled = new {Cpu}.PooledGradient(batch, in s_max_pooling2d_1);", code);
        Assert.Contains($"{Cpu}.MaxPool2D.BackwardToConvolution(d_max_pooling2d_1, max_pooling2d_1, View(_max_pooling2d_1_argmax, batch * 1568), {Cpu}.Epilogue.Relu, _d_conv2d_1_pooled, batch, in s_max_pooling2d_1);", code);
        Assert.Contains($"{Cpu}.Conv2D.BackwardWeights(max_pooling2d, _d_conv2d_1_pooled, ", code);
        // Its data gradient reads the pool's own tensors (Winograd needs them dense); the lists serve the weights only.
        Assert.Contains($"{Cpu}.Conv2D.BackwardDataThroughPool(d_max_pooling2d_1, max_pooling2d_1, View(_max_pooling2d_1_argmax, batch * 1568), {Cpu}.Epilogue.Relu, p.Slice(416, 12800), d_max_pooling2d, batch, in s_conv2d_1, in s_max_pooling2d_1, _scratch);", code);
        Assert.DoesNotContain($"{Cpu}.Conv2D.BackwardData(_d_conv2d_1_pooled, ", code);
        // The first convolution needs no input gradient: its weight gradient reads its pool's tensors, no lists stored.
        Assert.Contains($"{Cpu}.Conv2D.BackwardWeightsThroughPool(x, d_max_pooling2d, max_pooling2d, View(_max_pooling2d_argmax, batch * 3136), {Cpu}.Epilogue.Relu, g.Slice(0, 400), g.Slice(400, 16), batch, in s_conv2d, in s_max_pooling2d, _scratch);", code);
        Assert.DoesNotContain("_d_conv2d_pooled", code);
        Assert.DoesNotContain("BackwardToConvolution(d_max_pooling2d,", code);
        // No dense convolution gradient, no dense pool or activation backward for the convolutions.
        Assert.DoesNotContain("_d_conv2d = ", code);
        Assert.DoesNotContain("_d_conv2d_1 = ", code);
        Assert.DoesNotContain("MaxPool2D.Backward(", code);
        Assert.DoesNotContain("Activations.Backward(conv2d", code);
        // The CUDA executor keeps the dense plan.
        Assert.DoesNotContain("PooledGradient", files["Samples.MnistCnn.Cuda.g.cs"]);
    }

    [Fact]
    public void A_convolution_without_a_pool_keeps_the_dense_backward()
    {
        var code = GeneratorHarness.Run(SampleNetworks.StridedValid).Files["Samples.Odd.StridedValidNet.g.cs"];

        Assert.Contains("_d_conv2d = new float[batch * 80];", code);
        Assert.Contains($"{Cpu}.Activations.Backward(conv2d, d_conv2d, {Cpu}.Epilogue.Tanh);", code);
        Assert.Contains($"{Cpu}.Conv2D.BackwardWeights(x, d_conv2d, ", code);
        Assert.DoesNotContain("PooledGradient", code);
        Assert.DoesNotContain("BackwardToConvolution", code);
    }

    [Fact]
    public void Only_a_direct_convolution_and_pool_pair_is_fused()
    {
        const string source = """
            using Kiln;

            [Network]
            [Input(8, 8, 1)]
            [Conv2D(4, 3, Padding.Same, Activation.Relu)]
            [Dropout(0.5)]
            [MaxPool2D(2, 2)]
            [Flatten]
            [Dense(3, Activation.Softmax)]
            public partial class SeparatedNet;
            """;
        var result = GeneratorHarness.Run(source);
        var code = result.Files["SeparatedNet.g.cs"];

        Assert.Empty(result.CompilationProblems.Select(d => d.ToString()));
        Assert.Contains($"{Cpu}.MaxPool2D.Backward(d_max_pooling2d, View(_max_pooling2d_argmax, batch * 64), d_dropout, batch, in s_max_pooling2d);", code);
        Assert.Contains($"{Cpu}.Activations.Backward(conv2d, d_conv2d, {Cpu}.Epilogue.Relu);", code);
        Assert.Contains($"{Cpu}.Conv2D.BackwardWeights(x, d_conv2d, ", code);
        Assert.DoesNotContain("PooledGradient", code);
        Assert.DoesNotContain("BackwardToConvolution", code);
    }
}
