using System.Collections.Generic;
using Kiln.Generator.Emitters;
using Kiln.Generator.Model;

namespace Kiln.Generator.Layers;

internal sealed record DropoutConfig(double Rate) : LayerConfig;

/// <summary>
/// <c>[Dropout(rate)]</c>: inverted dropout while training (kept values scaled by 1/(1−rate)), the identity otherwise.
/// Masks come from a counter-based hash of (seed, layer, step, element), the same on the CPU and the GPU.
/// </summary>
internal sealed class DropoutDescriptor : LayerDescriptor<DropoutConfig>
{
    public override string Kind => "Dropout";
    public override string TypeName => "Dropout";
    public override string NamePrefix => "dropout";

    public override void Validate(LayerContext c)
    {
        var rate = c.Spec.Double("rate");
        if (!(rate >= 0 && rate < 1))
        {
            c.Report(DiagnosticDescriptors.DropoutRate, c.Name, rate.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        }
        if (c.IsLast)
        {
            c.Report(DiagnosticDescriptors.DropoutLast, c.Name);
        }
    }

    public override Inferred? Infer(LayerContext c)
    {
        var rate = c.Spec.Double("rate");
        return rate >= 0 && rate < 1 ? new Inferred(c.Input, new DropoutConfig(rate)) : null;
    }

    public override string Signature(LayerModel layer) => $"Dropout({Code.F(Config(layer).Rate)})";

    public override IEnumerable<KeyValuePair<string, string>> KerasConfig(LayerModel layer)
    {
        yield return new("rate", Code.F(Config(layer).Rate) + "f");
    }

    public override void EmitCpuForward(CpuForward c)
    {
        c.W.Line($"global::System.ReadOnlySpan<float> {c.Output} = {c.Input};");
        c.W.Open("if (training)");
        c.W.Line($"var kept = {c.OutputSpan};");
        c.W.Line($"{Code.Cpu}.Dropout.Forward({c.Input}, kept, {Code.F(Config(c.Layer).Rate)}f, LayerSeed({c.Layer.Index}), Step);");
        c.W.Line($"{c.Output} = kept;");
        c.W.Close();
    }

    public override void EmitCpuBackward(CpuBackward c) =>
        c.W.Line(c.HasDx ? $"{Code.Cpu}.Dropout.Backward({c.Dy}, {c.Dx}, {Code.F(Config(c.Layer).Rate)}f, LayerSeed({c.Layer.Index}), Step);" : "// nothing below needs a gradient");

    public override void EmitCudaForward(CudaForward c)
    {
        var l = c.Layer;
        c.W.Line($"var {c.Output} = training ? _{c.Output}.Pointer : {c.Input};");
        c.W.Open("if (training)");
        c.Launch($"kiln::dropout_forward<{l.Output.Size}>", $"Elementwise(batch * {l.Output.Size}L)", $"{c.Input}, {c.Output}, batch, LayerSeed({l.Index}), StepCounter, {Code.F(Config(l).Rate)}f");
        c.W.Close();
    }

    public override void EmitCudaBackward(CudaBackward c)
    {
        var l = c.Layer;
        if (c.HasDx)
        {
            c.Launch($"kiln::dropout_backward<{l.Output.Size}>", $"Elementwise(batch * {l.Output.Size}L)", $"{c.Dy}, {c.Dx}, batch, LayerSeed({l.Index}), StepCounter, {Code.F(Config(l).Rate)}f");
        }
    }
}
