using System.Collections.Generic;
using Kiln.Generator.Emitters;
using Kiln.Generator.Model;

namespace Kiln.Generator.Layers;

internal sealed record AveragePooling2DConfig(PoolConfig Window) : LayerConfig;

/// <summary><c>[AveragePooling2D(poolSize, stride, padding)]</c>: each window's mean over the cells inside the input (Keras' <c>same</c>).</summary>
internal sealed class AveragePooling2DDescriptor : LayerDescriptor<AveragePooling2DConfig>
{
    public override string Kind => "AveragePooling2D";
    public override string TypeName => "AveragePooling2D";
    public override string NamePrefix => "average_pooling2d";

    public override void Validate(LayerContext c) => PoolWindow.Validate(c);

    public override Inferred? Infer(LayerContext c) =>
        PoolWindow.Infer(c) is var (output, window) ? new Inferred(output, new AveragePooling2DConfig(window)) : null;

    public override string Signature(LayerModel layer) => PoolWindow.Signature("AveragePooling2D", Config(layer).Window);

    public override IEnumerable<KeyValuePair<string, string>> KerasConfig(LayerModel layer) => PoolWindow.KerasConfig(Config(layer).Window);

    public override void EmitCpuFields(IndentedWriter w, LayerModel layer, BufferPlan plan) => PoolWindow.EmitCpuGeometry(w, layer, plan, Config(layer).Window);

    public override void EmitCpuForward(CpuForward c)
    {
        c.W.Line($"var {c.Output} = {c.OutputSpan};");
        c.W.Line($"{Code.Cpu}.AvgPool2D.Forward({c.Input}, {c.Output}, batch, in {c.Geometry});");
    }

    public override void EmitCpuBackward(CpuBackward c) =>
        c.W.Line(c.HasDx ? $"{Code.Cpu}.AvgPool2D.Backward({c.Dy}, {c.Dx}, batch, in {c.Geometry});" : "// nothing below needs a gradient");

    public override void EmitCudaForward(CudaForward c)
    {
        var l = c.Layer;
        c.W.Line($"var {c.Output} = _{c.Output}.Pointer;");
        c.Launch($"kiln::avgpool2d_forward<{PoolWindow.CudaArgs(l, Config(l).Window)}>", $"AvgPool2DForward(batch, {l.Output.Height}, {l.Output.Width}, {l.Output.Channels})",
            $"{c.Input}, {c.Output}, batch");
    }

    public override void EmitCudaBackward(CudaBackward c)
    {
        var l = c.Layer;
        if (c.HasDx)
        {
            c.Launch($"kiln::avgpool2d_backward<{PoolWindow.CudaArgs(l, Config(l).Window)}>", $"AvgPool2DBackward(batch, {l.Input.Height}, {l.Input.Width}, {l.Input.Channels})",
                $"{c.Dy}, {c.Dx}, batch");
        }
    }
}
