using System.Collections.Generic;
using Kiln.Generator.Emitters;
using Kiln.Generator.Model;

namespace Kiln.Generator.Layers;

internal sealed record RescalingConfig(double Scale, double Offset) : LayerConfig;

/// <summary><c>[Rescaling(scale, offset)]</c>: <c>y = x·scale + offset</c>, Keras' preprocessing layer.</summary>
internal sealed class RescalingDescriptor : LayerDescriptor<RescalingConfig>
{
    public override string Kind => "Rescaling";
    public override string TypeName => "Rescaling";
    public override string NamePrefix => "rescaling";

    public override void Validate(LayerContext c)
    {
        var (scale, offset) = (c.Spec.Double("scale"), c.Spec.Double("offset"));
        c.InRange(scale, !double.IsNaN(scale) && !double.IsInfinity(scale), "scale", "finite");
        c.InRange(offset, !double.IsNaN(offset) && !double.IsInfinity(offset), "offset", "finite");
    }

    public override Inferred? Infer(LayerContext c) => new(c.Input, new RescalingConfig(c.Spec.Double("scale"), c.Spec.Double("offset")));

    public override string Signature(LayerModel layer) => $"Rescaling({Code.F(Config(layer).Scale)}, {Code.F(Config(layer).Offset)})";

    public override IEnumerable<KeyValuePair<string, string>> KerasConfig(LayerModel layer)
    {
        yield return new("scale", Code.F(Config(layer).Scale) + "f");
        yield return new("offset", Code.F(Config(layer).Offset) + "f");
    }

    private static string Scale(LayerModel l) => Code.F(Config(l).Scale) + "f";

    public override void EmitCpuForward(CpuForward c)
    {
        c.W.Line($"var {c.Output} = {c.OutputSpan};");
        c.W.Line($"{Code.Cpu}.Rescaling.Forward({c.Input}, {c.Output}, {Scale(c.Layer)}, {Code.F(Config(c.Layer).Offset)}f);");
    }

    public override void EmitCpuBackward(CpuBackward c) =>
        c.W.Line(c.HasDx ? $"{Code.Cpu}.Rescaling.Backward({c.Dy}, {c.Dx}, {Scale(c.Layer)});" : "// nothing below needs a gradient");

    public override void EmitCudaForward(CudaForward c)
    {
        var l = c.Layer;
        c.W.Line($"var {c.Output} = _{c.Output}.Pointer;");
        c.Launch($"kiln::rescaling_forward<{l.Output.Size}>", $"Elementwise(batch * {l.Output.Size}L)", $"{c.Input}, {c.Output}, batch, {Scale(l)}, {Code.F(Config(l).Offset)}f");
    }

    public override void EmitCudaBackward(CudaBackward c)
    {
        var l = c.Layer;
        if (c.HasDx)
        {
            c.Launch($"kiln::rescaling_backward<{l.Output.Size}>", $"Elementwise(batch * {l.Output.Size}L)", $"{c.Dy}, {c.Dx}, batch, {Scale(l)}");
        }
    }
}
