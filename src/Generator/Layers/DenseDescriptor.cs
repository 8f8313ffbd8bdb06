using System.Collections.Generic;
using Kiln.Generator.Emitters;
using Kiln.Generator.Model;

namespace Kiln.Generator.Layers;

internal sealed record DenseConfig(int Units, Activation Activation, bool UseBias) : LayerConfig;

/// <summary><c>[Dense(units, activation, UseBias = true)]</c>: <c>y = act(x · kernel + bias)</c>, kernel (in, units).</summary>
internal sealed class DenseDescriptor : LayerDescriptor<DenseConfig>
{
    public override string Kind => "Dense";
    public override string TypeName => "Dense";
    public override string NamePrefix => "dense";

    public override void Validate(LayerContext c)
    {
        c.Positive(c.Spec.Int("units"), "units");
        c.CheckActivation(c.Spec.Enum("activation", Activation.Linear));
    }

    public override Inferred? Infer(LayerContext c)
    {
        var units = c.Spec.Int("units");
        if (units <= 0 || !c.RequireVector())
        {
            return null;
        }
        var config = new DenseConfig(units, c.Spec.Enum("activation", Activation.Linear), c.Spec.Bool("useBias", true));
        var kernel = Affine.Kernel(c.Input.Size, units, c.Input.Size, units);
        return config.UseBias
            ? new Inferred(Shape.Vector(units), config, kernel, Affine.Bias(units))
            : new Inferred(Shape.Vector(units), config, kernel);
    }

    public override Activation ActivationOf(LayerModel layer) => Config(layer).Activation;

    public override IEnumerable<BufferPlan.Buffer> ExtraBuffers(LayerModel layer, BufferPlan plan) => Affine.Buffers(layer, plan, Config(layer).Activation);

    public override string Signature(LayerModel layer) =>
        $"Dense({Config(layer).Units}, {Config(layer).Activation}{(Config(layer).UseBias ? "" : ", no bias")})";

    public override IEnumerable<KeyValuePair<string, string>> KerasConfig(LayerModel layer)
    {
        yield return new("units", Code.I(Config(layer).Units));
        foreach (var item in Affine.KerasConfig(Config(layer).Activation, Config(layer).UseBias))
        {
            yield return item;
        }
    }

    public override void EmitCpuForward(CpuForward c)
    {
        var l = c.Layer;
        // A head whose activation the loss applies computes logits.
        var act = c.Plan.Applied(l, Config(l).Activation);
        var (target, epilogue) = Affine.CpuTarget(c, act);
        c.W.Line($"var {c.Output} = {c.OutputSpan};");
        c.W.Line($"{Code.Cpu}.Dense.Forward({c.Input}, {c.P("kernel")}, {Affine.CpuBias(l, c.Plan)}, {target}, batch, {l.Input.Size}, {Config(l).Units}, {epilogue});");
        Affine.CpuActivate(c, act);
    }

    public override void EmitCpuBackward(CpuBackward c)
    {
        var l = c.Layer;
        Affine.CpuDeactivate(c, Config(l).Activation);
        c.W.Line($"{Code.Cpu}.Dense.BackwardWeights({c.X}, {c.Dy}, {c.G("kernel")}, {Affine.CpuBiasGradient(l, c.Plan)}, batch, {l.Input.Size}, {Config(l).Units});");
        if (c.HasDx)
        {
            c.W.Line($"{Code.Cpu}.Dense.BackwardData({c.Dy}, {c.P("kernel")}, {c.Dx}, batch, {l.Input.Size}, {Config(l).Units});");
        }
    }

    public override void EmitCudaForward(CudaForward c)
    {
        var l = c.Layer;
        var act = c.Plan.Applied(l, Config(l).Activation);
        var fused = Affine.Separate(act) ? 0 : Code.ActCode(act);
        var target = Affine.Separate(act) ? $"{c.Plan.Field(l, Affine.PreActivation)}.Pointer" : c.Output;
        c.W.Line($"var {c.Output} = _{c.Output}.Pointer;");
        c.Launch($"kiln::dense_forward<{l.Input.Size}, {Config(l).Units}, {fused}>", $"DenseForward(batch, {l.Input.Size}, {Config(l).Units})",
            $"{c.Input}, {c.P("kernel")}, {Affine.CudaBias(l, c.Plan)}, {target}, batch");
        if (Affine.Separate(act))
        {
            c.Launch($"kiln::activation_layer_forward<{l.Output.Size}, {Code.ActCode(act)}>", $"Elementwise(batch * {l.Output.Size}L)",
                $"{target}, {c.Output}, batch, {Code.F(Code.DefaultAlpha(act))}f");
        }
    }

    public override void EmitCudaBackward(CudaBackward c)
    {
        var l = c.Layer;
        Affine.CudaDeactivate(c, Config(l).Activation);
        c.Launch($"kiln::dense_backward_weights<{l.Input.Size}, {Config(l).Units}>", $"DenseBackwardWeights(batch, {l.Input.Size}, {Config(l).Units})",
            $"{c.X}, {c.Dy}, {c.G("kernel")}, {Affine.CudaBiasGradient(l, c.Plan)}, batch");
        if (c.HasDx)
        {
            c.Launch($"kiln::dense_backward_data<{l.Input.Size}, {Config(l).Units}>", $"DenseBackwardData(batch, {l.Input.Size}, {Config(l).Units})",
                $"{c.Dy}, {c.P("kernel")}, {c.Dx}, batch");
        }
    }
}
