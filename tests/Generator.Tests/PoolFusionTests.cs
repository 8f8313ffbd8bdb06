namespace Kiln.Generator.Tests;

/// <summary>
/// On the CPU a Conv2D directly followed by a MaxPool2D backpropagates through the pool (its Conv2DPlan reads the
/// pool's tensors; no dense gradient of the convolution); every other sequence keeps the dense activation-backward +
/// convolution-backward calls. The generator passes the plan structure only; it emits no scratch formula.
/// </summary>
public class PoolFusionTests
{
    private const string Cpu = "global::Kiln.Runtime.Cpu";

    [Fact]
    public void A_convolution_feeding_a_pool_backpropagates_through_the_pool()
    {
        var files = GeneratorHarness.Run(SampleNetworks.MnistCnn).Files;
        var code = files["Samples.MnistCnn.g.cs"];

        // One plan per convolution, made with the buffers; the first needs no data gradient.
        Assert.Contains($"_conv2d_plan = new {Cpu}.Conv2DPlan(in s_conv2d, s_max_pooling2d, {Cpu}.Epilogue.Relu, batch, dataGradient: false);", code);
        Assert.Contains($"_conv2d_1_plan = new {Cpu}.Conv2DPlan(in s_conv2d_1, s_max_pooling2d_1, {Cpu}.Epilogue.Relu, batch);", code);
        Assert.Contains("_scratch = new float[global::System.Math.Max(_conv2d_plan.ScratchSize, _conv2d_1_plan.ScratchSize)];", code);
        Assert.True(code.IndexOf("_conv2d_1_plan = new", StringComparison.Ordinal) < code.IndexOf("_scratch = new", StringComparison.Ordinal), "plans are made before the scratch they size");
        Assert.Contains("_conv2d_1_plan.ForwardPooled(max_pooling2d, p.Slice(416, 12800), p.Slice(13216, 32), max_pooling2d_1, training ? View(_max_pooling2d_1_argmax, batch * 1568) : default, batch, _scratch);", code);
        Assert.Contains("_conv2d_1_plan.BackwardThroughPool(max_pooling2d, d_max_pooling2d_1, max_pooling2d_1, View(_max_pooling2d_1_argmax, batch * 1568), p.Slice(416, 12800), g.Slice(416, 12800), g.Slice(13216, 32), d_max_pooling2d, batch, _scratch);", code);
        Assert.Contains("_conv2d_plan.BackwardThroughPool(x, d_max_pooling2d, max_pooling2d, View(_max_pooling2d_argmax, batch * 3136), p.Slice(0, 400), g.Slice(0, 400), g.Slice(400, 16), default, batch, _scratch);", code);
        // The generator decides no numerical path: no scratch formula, no algorithm-specific call, no lists of its own.
        Assert.DoesNotContain("Conv2D.ScratchSize", code);
        Assert.DoesNotContain($"{Cpu}.Conv2D.", code);
        Assert.DoesNotContain("PooledGradient", code);
        Assert.DoesNotContain("BackwardToConvolution", code);
        // No dense convolution gradient, no dense pool or activation backward for the convolutions.
        Assert.DoesNotContain("_d_conv2d = ", code);
        Assert.DoesNotContain("_d_conv2d_1 = ", code);
        Assert.DoesNotContain("MaxPool2D.Backward(", code);
        Assert.DoesNotContain("Activations.Backward(conv2d", code);
        // The CUDA executor keeps the dense plan.
        Assert.DoesNotContain("Conv2DPlan", files["Samples.MnistCnn.Cuda.g.cs"]);
    }

    [Fact]
    public void A_convolution_under_an_overlapping_pool_is_not_fused_forward_but_backpropagates_through_it()
    {
        const string source = """
            using Kiln;

            [Network]
            [Input(9, 9, 1)]
            [Conv2D(4, 3, Padding.Same, Activation.Relu)]
            [Conv2D(8, 3, Padding.Same, Activation.Relu)]
            [MaxPool2D(3, 2)]
            [Flatten]
            [Dense(3, Activation.Softmax)]
            public partial class OverlapNet;
            """;
        var result = GeneratorHarness.Run(source);
        var code = result.Files["OverlapNet.g.cs"];

        Assert.Empty(result.CompilationProblems.Select(d => d.ToString()));
        Assert.Contains($"_conv2d_1_plan = new {Cpu}.Conv2DPlan(in s_conv2d_1, s_max_pooling2d, {Cpu}.Epilogue.Relu, batch);", code);
        Assert.Contains("_conv2d_1_plan.Forward(conv2d, ", code);
        Assert.Contains($"{Cpu}.MaxPool2D.Forward(conv2d_1, ", code);
        Assert.Contains("_conv2d_1_plan.BackwardThroughPool(conv2d, d_max_pooling2d, max_pooling2d, ", code);
        Assert.DoesNotContain("_d_conv2d_1 = ", code);
    }

    [Fact]
    public void A_convolution_without_a_pool_keeps_the_dense_backward()
    {
        var code = GeneratorHarness.Run(SampleNetworks.StridedValid).Files["Samples.Odd.StridedValidNet.g.cs"];

        Assert.Contains("_d_conv2d = new float[batch * 80];", code);
        Assert.Contains($"{Cpu}.Activations.Backward(conv2d, d_conv2d, {Cpu}.Epilogue.Tanh);", code);
        Assert.Contains($"_conv2d_plan = new {Cpu}.Conv2DPlan(in s_conv2d, null, {Cpu}.Epilogue.Tanh, batch, dataGradient: false);", code);
        Assert.Contains("_conv2d_plan.Backward(x, d_conv2d, ", code);
        Assert.DoesNotContain("BackwardThroughPool", code);
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
        Assert.Contains($"_conv2d_plan = new {Cpu}.Conv2DPlan(in s_conv2d, null, {Cpu}.Epilogue.Relu, batch, dataGradient: false);", code);
        Assert.Contains("_conv2d_plan.Backward(x, d_conv2d, ", code);
        Assert.DoesNotContain("BackwardThroughPool", code);
    }
}
