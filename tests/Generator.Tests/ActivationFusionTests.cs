namespace Kiln.Generator.Tests;

/// <summary>
/// On the CPU a BatchNormalization followed by an activation layer whose derivative is a function of its output runs
/// as one kernel each way (BufferPlan.Activates), and with a ReLU or LeakyReLU followed by a max pool the pool's forward
/// runs all three (BufferPlan.ActivatesIntoPool) and, windows not overlapping, the normalisation's backward reads the
/// pool's gradient (BufferPlan.NormalisesThroughPool); every other sequence keeps the layers apart.
/// </summary>
public class ActivationFusionTests
{
    private const string Cpu = "global::Kiln.Runtime.Cpu";

    [Fact]
    public void A_normalisation_followed_by_a_leaky_relu_runs_as_one_kernel_each_way()
    {
        var code = Generate("""
            [Conv2D(4, 3, Padding.Same, UseBias = false)]
            [BatchNormalization]
            [LeakyReLU(0.1)]
            [Flatten]
            [Dense(3, Activation.Softmax)]
            """);

        Assert.Contains("// computed with the activation below", code);
        Assert.Contains($"{Cpu}.BatchNorm.ForwardTraining(conv2d, p.Slice(72, 4), p.Slice(76, 4), leaky_re_lu, ", code);
        Assert.Contains($", {Cpu}.Epilogue.LeakyRelu, 0.1f);", code);
        // LeakyReLU's derivative comes from the sign of the recomputed normalised value: the backward reads no output.
        Assert.Contains($"{Cpu}.BatchNorm.Backward(conv2d, default, d_leaky_re_lu, {Cpu}.Epilogue.LeakyRelu, 0.1f, p.Slice(72, 4), p.Slice(76, 4), ", code);
        Assert.Contains("// applied by batch_normalization's backward below", code);
        // Neither the normalised output nor its gradient is stored; the statistics are.
        Assert.DoesNotContain("_batch_normalization = ", code);
        Assert.DoesNotContain("_d_batch_normalization", code);
        Assert.Contains("_batch_normalization_mean = new float[4];", code);
        // Only inference, where the normalisation is folded into the convolution, applies the leaky ReLU on its own
        // (the plan's epilogue takes ReLU alone), with the layer's alpha.
        Assert.Equal([$"{Cpu}.Activations.Forward(leaky_re_lu, leaky_re_lu, {Cpu}.Epilogue.LeakyRelu, 0.1f);"],
            code.Split('\n').Select(l => l.Trim()).Where(l => l.Contains($"{Cpu}.Activations.")));
    }

    [Fact]
    public void At_inference_a_normalisation_after_a_linear_convolution_is_folded_into_it()
    {
        var code = Generate("""
            [Conv2D(4, 3, Padding.Same, UseBias = false)]
            [BatchNormalization(epsilon: 0.01)]
            [ReLU]
            [Flatten]
            [Dense(3, Activation.Softmax)]
            """);

        // Training runs the convolution, then the normalisation with its statistics; inference only the folded convolution.
        var lines = code.Split('\n').Select(l => l.Trim()).ToList();
        var convolution = lines.IndexOf("_conv2d_plan.Forward(x, p.Slice(0, 72), _conv2d_zero_bias, conv2d, batch, _scratch);");
        Assert.Equal(["if (training)", "{"], lines[(convolution - 2)..convolution]);
        Assert.Contains($"{Cpu}.BatchNorm.Fold(p.Slice(0, 72), default, p.Slice(72, 4), p.Slice(76, 4), ", code);
        Assert.Contains(", 0.01f, _conv2d_folded_kernel, _conv2d_folded_bias);", code);
        Assert.Contains("_conv2d_inference_plan.Forward(x, _conv2d_folded_kernel, _conv2d_folded_bias, re_lu, batch, _scratch);", code);
        Assert.Contains($"_conv2d_inference_plan = new {Cpu}.Conv2DPlan(in s_conv2d, null, {Cpu}.Epilogue.Relu, batch, dataGradient: false);", code);
        Assert.DoesNotContain($"{Cpu}.BatchNorm.ForwardInference", code);
        Assert.DoesNotContain($"{Cpu}.Activations.", code);
    }

    [Theory]
    [InlineData("[Conv2D(4, 3, Padding.Same, activation: Activation.Relu)] [BatchNormalization] [Flatten] [Dense(3, Activation.Softmax)]")] // activated
    [InlineData("[Conv2D(4, 3, Padding.Same)] [Dropout(0.5)] [BatchNormalization] [Flatten] [Dense(3, Activation.Softmax)]")] // not adjacent
    [InlineData("[Flatten] [Dense(4)] [BatchNormalization] [Dense(3, Activation.Softmax)]")] // after Dense
    public void Other_normalisations_are_not_folded(string layers)
    {
        var code = Generate(layers);

        Assert.Contains($"{Cpu}.BatchNorm.ForwardInference(", code);
        Assert.DoesNotContain("BatchNorm.Fold", code);
        Assert.DoesNotContain("inference_plan", code);
    }

    [Theory]
    [InlineData("[BatchNormalization] [Activation(Activation.Gelu)] [Flatten] [Dense(3, Activation.Softmax)]")] // needs its input
    [InlineData("[BatchNormalization] [Dropout(0.5)] [ReLU] [Flatten] [Dense(3, Activation.Softmax)]")] // not adjacent
    [InlineData("[Flatten] [Dense(3)] [BatchNormalization] [Activation(Activation.Softmax)]")] // the head: the loss reads it
    public void Other_sequences_keep_the_two_layers_apart(string layers)
    {
        var code = Generate("[Conv2D(4, 3, Padding.Same)]\n" + layers);

        Assert.DoesNotContain("computed with the activation below", code);
        Assert.Contains("_batch_normalization = new float[", code);
        Assert.Matches(@"BatchNorm\.Backward\(\w+, d_batch_normalization, ", code);
    }

    [Theory]
    [InlineData("[ReLU]", "Relu, 0f")]
    [InlineData("[LeakyReLU(0.1)]", "LeakyRelu, 0.1f")]
    public void A_normalisation_activation_and_max_pool_run_forward_as_one_kernel(string activation, string epilogue)
    {
        var code = Generate($$"""
            [Conv2D(4, 3, Padding.Same, UseBias = false)]
            [BatchNormalization]
            {{activation}}
            [MaxPool2D(2)]
            [Flatten]
            [Dense(3, Activation.Softmax)]
            """);

        var name = activation == "[ReLU]" ? "re_lu" : "leaky_re_lu";
        Assert.Contains("// computed with the normalisation above by the pooling below", code);
        Assert.Contains($"{Cpu}.BatchNorm.ForwardTrainingPooled(conv2d, p.Slice(72, 4), p.Slice(76, 4), max_pooling2d, View(_max_pooling2d_argmax, batch * 64), ", code);
        Assert.Contains($", batch, in s_max_pooling2d, 0.99f, 0.001f, {Cpu}.Epilogue.{epilogue});", code);
        // At inference the normalisation folds into the convolution, whose plan pools as it convolves (ReLU its epilogue;
        // a leaky ReLU after the pool, with which it commutes).
        Assert.Contains("_conv2d_inference_plan.ForwardPooled(x, _conv2d_folded_kernel, _conv2d_folded_bias, max_pooling2d, default, batch, _scratch);", code);
        Assert.Contains("_conv2d_inference_plan = new global::Kiln.Runtime.Cpu.Conv2DPlan(in s_conv2d, s_max_pooling2d, ", code);
        Assert.Equal(epilogue.StartsWith("Leaky", StringComparison.Ordinal),
            code.Contains($"{Cpu}.Activations.Forward(max_pooling2d, max_pooling2d, {Cpu}.Epilogue.{epilogue});", StringComparison.Ordinal));
        Assert.DoesNotContain($"{Cpu}.MaxPool2D.Forward(", code);
        // Neither the activated map nor (the windows do not overlap) its gradient is stored: the normalisation's
        // backward reads the pool's gradient and argmax.
        Assert.DoesNotMatch($@"\s_{name} = new float\[", code);
        Assert.DoesNotContain($"_d_{name}", code);
        Assert.Contains("// read by the normalisation's backward below (BatchNorm.BackwardThroughPool)", code);
        Assert.Contains($"{Cpu}.BatchNorm.BackwardThroughPool(conv2d, d_max_pooling2d, View(_max_pooling2d_argmax, batch * 64), {Cpu}.Epilogue.{epilogue}, p.Slice(72, 4), p.Slice(76, 4), ", code);
        Assert.Contains(", batch, in s_max_pooling2d);", code);
        Assert.DoesNotContain($"{Cpu}.MaxPool2D.Backward(", code);
    }

    [Fact]
    public void A_convolution_that_does_not_fold_leaves_inference_to_the_pooled_normalisation()
    {
        var code = Generate("""
            [Conv2D(4, 3, Padding.Same, Activation.Relu)]
            [BatchNormalization]
            [ReLU]
            [MaxPool2D(2)]
            [Flatten]
            [Dense(3, Activation.Softmax)]
            """);

        Assert.Contains($"{Cpu}.BatchNorm.ForwardTrainingPooled(conv2d, ", code);
        Assert.Contains($"{Cpu}.BatchNorm.ForwardInferencePooled(conv2d, p.Slice(76, 4), p.Slice(80, 4), p.Slice(", code);
        Assert.DoesNotContain($"{Cpu}.MaxPool2D.", code);
    }

    [Fact]
    public void Overlapping_pool_windows_keep_the_activation_gradient_for_the_pool_backward()
    {
        var code = Generate("""
            [Conv2D(4, 3, Padding.Same, UseBias = false)]
            [BatchNormalization]
            [ReLU]
            [MaxPool2D(3, 2)]
            [Flatten]
            [Dense(3, Activation.Softmax)]
            """);

        Assert.Contains($"{Cpu}.BatchNorm.ForwardTrainingPooled(conv2d, ", code);
        Assert.Contains("_d_re_lu = new float[", code);
        Assert.Contains($"{Cpu}.MaxPool2D.Backward(d_max_pooling2d, View(_max_pooling2d_argmax, batch * 36), d_re_lu, ", code);
        Assert.Contains($"{Cpu}.BatchNorm.Backward(conv2d, default, d_re_lu, {Cpu}.Epilogue.Relu, 0f, ", code);
    }

    [Fact]
    public void A_sigmoid_before_a_max_pool_keeps_its_output_for_the_normalisation_backward()
    {
        var code = Generate("""
            [Conv2D(4, 3, Padding.Same, UseBias = false)]
            [BatchNormalization]
            [Activation(Activation.Sigmoid)]
            [MaxPool2D(2)]
            [Flatten]
            [Dense(3, Activation.Softmax)]
            """);

        Assert.DoesNotContain("ForwardTrainingPooled", code);
        Assert.Contains("_activation = new float[", code);
        Assert.Contains($"{Cpu}.MaxPool2D.Forward(activation, max_pooling2d, ", code);
        Assert.Contains($"{Cpu}.BatchNorm.Backward(conv2d, activation, d_activation, {Cpu}.Epilogue.Sigmoid, ", code);
    }

    [Fact]
    public void A_convolution_without_bias_fused_with_its_pool_keeps_its_zero_bias()
    {
        var code = Generate("""
            [Conv2D(4, 3, Padding.Same, Activation.Relu, UseBias = false)]
            [MaxPool2D(2)]
            [Flatten]
            [Dense(3, Activation.Softmax)]
            """);

        Assert.Contains("_conv2d_plan.ForwardPooled(x, p.Slice(0, 72), _conv2d_zero_bias, ", code);
        Assert.Contains("_conv2d_zero_bias = new float[4];", code);
    }

    // The network's CPU executor, after checking that the whole project compiles without a warning.
    private static string Generate(string layers)
    {
        var result = GeneratorHarness.Run($$"""
            using Kiln;

            [Network]
            [Input(8, 8, 2)]
            {{layers}}
            public partial class FusionNet;
            """);
        Assert.Empty(result.GeneratorDiagnostics.Select(d => d.ToString()));
        Assert.Empty(result.CompilationProblems.Select(d => d.ToString()));
        return result.Files["FusionNet.g.cs"];
    }
}
