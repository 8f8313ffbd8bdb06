using System.Collections.Generic;
using Kiln.Generator.Emitters;
using Kiln.Generator.Model;

namespace Kiln.Generator.Layers;

internal sealed record ActivationConfig(Activation Activation, double Alpha) : LayerConfig;

/// <summary>
/// What the activation layers share: an element-wise function with its parameter (LeakyReLU's slope, ELU's alpha).
/// A softmax activation layer is the head's: it passes logits on and the loss applies the softmax.
/// </summary>
internal abstract class ActivationLayerDescriptor : LayerDescriptor<ActivationConfig>
{
    protected abstract ActivationConfig Read(LayerSpec spec);

    public override void Validate(LayerContext c) => c.CheckActivation(Read(c.Spec).Activation);

    public override Inferred? Infer(LayerContext c) => new(c.Input, Read(c.Spec));

    public override Activation ActivationOf(LayerModel layer) => Config(layer).Activation;

    public override string Signature(LayerModel layer) => Kind == "Activation"
        ? $"Activation({Config(layer).Activation})"
        : Config(layer).Alpha == 0 ? TypeName : $"{TypeName}({Code.F(Config(layer).Alpha)})";

    public override IEnumerable<KeyValuePair<string, string>> KerasConfig(LayerModel layer)
    {
        yield return new("activation", Code.Str(Code.KerasName(Config(layer).Activation)));
        yield return new("alpha", Code.F(Config(layer).Alpha) + "f");
    }

    private static string Alpha(LayerModel layer) => Code.F(Config(layer).Alpha) + "f";

    // The function this layer computes: linear when it is the head and the loss applies its softmax or sigmoid.
    // (A head is never fused into a BatchNormalization before it: BufferPlan fuses only layers with one after them.)
    private static Activation Applied(BufferPlan plan, LayerModel layer) => plan.Applied(layer, Config(layer).Activation);

    /// <summary>The function and parameter of an activation layer.</summary>
    public static (Activation Function, double Alpha) Of(LayerModel layer) => (Config(layer).Activation, Config(layer).Alpha);

    public override void EmitCpuForward(CpuForward c)
    {
        if (c.Plan.ActivatesIntoPool(c.Layer.Index))
        {
            c.W.Line("// computed with the normalisation above by the pooling below (BatchNorm.ForwardTrainingPooled)");
            return;
        }
        if (c.Plan.Activates(c.Layer.Index - 1))
        {
            BatchNormalizationDescriptor.EmitCpuForwardActivated(c, c.Model.Layers[c.Layer.Index - 1], Config(c.Layer).Activation, Config(c.Layer).Alpha);
            return;
        }
        c.W.Line($"var {c.Output} = {c.OutputSpan};");
        c.W.Line($"{Code.Cpu}.Activations.Forward({c.Input}, {c.Output}, {Code.Epilogue(Applied(c.Plan, c.Layer))}, {Alpha(c.Layer)});");
    }

    public override void EmitCpuBackward(CpuBackward c)
    {
        if (c.Plan.Activates(c.Layer.Index - 1))
        {
            c.W.Line($"// applied by {c.Model.Layers[c.Layer.Index - 1].Name}'s backward below");
            return;
        }
        if (!c.HasDx)
        {
            c.W.Line("// nothing below needs a gradient");
            return;
        }
        // A fused head's derivative was applied by the loss: the gradient passes through (Epilogue.Linear).
        c.W.Line($"{Code.Cpu}.Activations.Backward({c.X}, {c.Y}, {c.Dy}, {c.Dx}, {Code.Epilogue(Applied(c.Plan, c.Layer))}, {Alpha(c.Layer)});");
    }

    public override void EmitCudaForward(CudaForward c)
    {
        var l = c.Layer;
        c.W.Line($"var {c.Output} = _{c.Output}.Pointer;");
        c.Launch($"kiln::activation_layer_forward<{l.Output.Size}, {Code.ActCode(Applied(c.Plan, l))}>", $"Elementwise(batch * {l.Output.Size}L)",
            $"{c.Input}, {c.Output}, batch, {Alpha(l)}");
    }

    public override void EmitCudaBackward(CudaBackward c)
    {
        var l = c.Layer;
        if (c.HasDx)
        {
            c.Launch($"kiln::activation_layer_backward<{l.Output.Size}, {Code.ActCode(Applied(c.Plan, l))}>", $"Elementwise(batch * {l.Output.Size}L)",
                $"{c.X}, {c.Y}, {c.Dy}, {c.Dx}, batch, {Alpha(l)}");
        }
    }
}

/// <summary><c>[Activation(activation)]</c>: Keras' Activation layer with the function's default parameter.</summary>
internal sealed class ActivationDescriptor : ActivationLayerDescriptor
{
    public override string Kind => "Activation";
    public override string TypeName => "Activation";
    public override string NamePrefix => "activation";

    protected override ActivationConfig Read(LayerSpec spec)
    {
        var activation = spec.Enum("activation", Activation.Linear);
        return new ActivationConfig(activation, Code.DefaultAlpha(activation));
    }
}

/// <summary><c>[ReLU]</c>: Keras' ReLU layer with its defaults.</summary>
internal sealed class ReLUDescriptor : ActivationLayerDescriptor
{
    public override string Kind => "ReLU";
    public override string TypeName => "ReLU";
    public override string NamePrefix => "re_lu";

    protected override ActivationConfig Read(LayerSpec spec) => new(Activation.Relu, 0);
}

/// <summary><c>[LeakyReLU(negativeSlope = 0.3)]</c>.</summary>
internal sealed class LeakyReLUDescriptor : ActivationLayerDescriptor
{
    public override string Kind => "LeakyReLU";
    public override string TypeName => "LeakyReLU";
    public override string NamePrefix => "leaky_re_lu";

    protected override ActivationConfig Read(LayerSpec spec) => new(Activation.LeakyRelu, spec.Double("negativeSlope", 0.3));

    public override void Validate(LayerContext c)
    {
        var slope = c.Spec.Double("negativeSlope", 0.3);
        c.InRange(slope, slope >= 0 && !double.IsInfinity(slope), "negative slope", "non-negative and finite");
    }
}

/// <summary><c>[ELU(alpha = 1)]</c>.</summary>
internal sealed class ELUDescriptor : ActivationLayerDescriptor
{
    public override string Kind => "ELU";
    public override string TypeName => "ELU";
    public override string NamePrefix => "elu";

    protected override ActivationConfig Read(LayerSpec spec) => new(Activation.Elu, spec.Double("alpha", 1.0));

    public override void Validate(LayerContext c)
    {
        var alpha = c.Spec.Double("alpha", 1.0);
        c.InRange(alpha, !double.IsNaN(alpha) && !double.IsInfinity(alpha), "alpha", "finite");
    }
}
