using System.Collections.Generic;
using Kiln.Generator.Emitters;
using Kiln.Generator.Model;

namespace Kiln.Generator.Layers;

/// <summary>
/// What Dense and Conv2D share: the kernel and optional bias tensors, and their activation. An activation whose
/// derivative is a function of its output (ReLU, sigmoid, …) is fused into the kernel's epilogue and undone in place;
/// GELU and Swish need the pre-activation, so the layer computes it linearly into a buffer of its own first.
/// </summary>
internal static class Affine
{
    public const string PreActivation = "pre";

    public static ParameterModel Kernel(int fanIn, int fanOut, params int[] shape) =>
        new("kernel", shape.ToEquatableArray(), "GlorotUniform", Trainable: true, fanIn, fanOut);

    public static ParameterModel Bias(int length) => new("bias", new[] { length }.ToEquatableArray(), "Zeros", Trainable: true);

    public static bool Separate(Activation activation) => !Code.DerivativeFromOutput(activation);

    /// <summary>
    /// The pre-activation buffer of a separate activation, and without a bias the zeros the kernels read and, where a
    /// kernel writes one (<paramref name="writesBiasGradient"/>), the bias gradient nobody reads.
    /// </summary>
    public static IEnumerable<BufferPlan.Buffer> Buffers(LayerModel layer, BufferPlan plan, Activation activation, bool writesBiasGradient = true)
    {
        if (Separate(activation))
        {
            yield return new BufferPlan.Buffer("float", plan.Field(layer, PreActivation), $"batch * {layer.Output.Size}");
        }
        if (layer.Parameter("bias") is null)
        {
            // Without a bias the kernels read zeros and write a bias gradient nobody reads: no kernel needs a variant.
            var channels = Code.I(layer.Output.Rank == 1 ? layer.Output.Size : layer.Output.Channels);
            yield return new BufferPlan.Buffer("float", plan.Field(layer, ZeroBias), channels, Zeroed: true);
            if (writesBiasGradient)
            {
                yield return new BufferPlan.Buffer("float", plan.Field(layer, UnusedBiasGradient), channels);
            }
        }
    }

    private const string ZeroBias = "zero_bias";
    private const string UnusedBiasGradient = "unused_bias_gradient";

    /// <summary>The bias the CPU kernels read: the layer's, or zeros.</summary>
    public static string CpuBias(LayerModel layer, BufferPlan plan) =>
        layer.Parameter("bias") is null ? $"{plan.Field(layer, ZeroBias)}" : CpuForward.Slice(layer, "bias", "p");

    /// <summary>Where the CPU kernels write the bias gradient: the layer's, or a buffer nobody reads.</summary>
    public static string CpuBiasGradient(LayerModel layer, BufferPlan plan) =>
        layer.Parameter("bias") is null ? $"{plan.Field(layer, UnusedBiasGradient)}" : CpuForward.Slice(layer, "bias", "g");

    public static string CudaBias(LayerModel layer, BufferPlan plan) =>
        layer.Parameter("bias") is null ? $"{plan.Field(layer, ZeroBias)}.Pointer" : CudaForward.Address(layer, "bias", "Parameters");

    public static string CudaBiasGradient(LayerModel layer, BufferPlan plan) =>
        layer.Parameter("bias") is null ? $"{plan.Field(layer, UnusedBiasGradient)}.Pointer" : CudaForward.Address(layer, "bias", "Gradients");

    /// <summary>The buffer the affine part writes (the output, or the pre-activation) and the epilogue it fuses.</summary>
    public static (string Target, string Epilogue) CpuTarget(CpuForward c, Activation activation) =>
        (Separate(activation) ? c.Plan.FieldSpan(c.Layer, PreActivation, $"batch * {c.Layer.Output.Size}") : c.Output, CpuEpilogue(activation));

    /// <summary>The epilogue the affine kernel fuses: the activation, or Linear when it runs as a separate step.</summary>
    public static string CpuEpilogue(Activation activation) => Code.Epilogue(Separate(activation) ? Activation.Linear : activation);

    /// <summary>After the affine part: the separate activation step, when there is one.</summary>
    public static void CpuActivate(CpuForward c, Activation activation)
    {
        if (Separate(activation))
        {
            c.W.Line($"{Code.Cpu}.Activations.Forward({c.Plan.FieldSpan(c.Layer, PreActivation, $"batch * {c.Layer.Output.Size}")}, {c.Output}, {Code.Epilogue(activation)}, {Code.F(Code.DefaultAlpha(activation))}f);");
        }
    }

    /// <summary>Turns the output gradient into the pre-activation gradient, in place.</summary>
    public static void CpuDeactivate(CpuBackward c, Activation activation)
    {
        if (c.IsFusedHead || activation == Activation.Linear)
        {
            return;
        }
        if (Separate(activation))
        {
            c.W.Line($"{Code.Cpu}.Activations.Backward({c.Plan.FieldSpan(c.Layer, PreActivation, $"batch * {c.Layer.Output.Size}")}, {c.Y}, {c.Dy}, {c.Dy}, {Code.Epilogue(activation)}, {Code.F(Code.DefaultAlpha(activation))}f);");
        }
        else
        {
            c.W.Line($"{Code.Cpu}.Activations.Backward({c.Y}, {c.Dy}, {Code.Epilogue(activation)});");
        }
    }

    public static void CudaDeactivate(CudaBackward c, Activation activation)
    {
        if (c.IsFusedHead || activation == Activation.Linear)
        {
            return;
        }
        var size = c.Layer.Output.Size;
        if (Separate(activation))
        {
            c.Launch($"kiln::activation_layer_backward<{size}, {Code.ActCode(activation)}>", $"Elementwise(batch * {size}L)",
                $"{c.Plan.Field(c.Layer, PreActivation)}.Pointer, {c.Y}, {c.Dy}, {c.Dy}, batch, {Code.F(Code.DefaultAlpha(activation))}f");
        }
        else
        {
            c.Launch($"kiln::activation_backward<{size}, {Code.ActCode(activation)}>", $"Elementwise(batch * {size}L)", $"{c.Y}, {c.Dy}, batch");
        }
    }

    public static IEnumerable<KeyValuePair<string, string>> KerasConfig(Activation activation, bool useBias)
    {
        yield return new("activation", Code.Str(Code.KerasName(activation)));
        yield return new("use_bias", useBias ? "true" : "false");
    }
}
