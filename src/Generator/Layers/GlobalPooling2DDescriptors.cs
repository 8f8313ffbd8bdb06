using System.Collections.Generic;
using Kiln.Generator.Emitters;
using Kiln.Generator.Model;

namespace Kiln.Generator.Layers;

internal sealed record GlobalPooling2DConfig(int Pixels, int Channels) : LayerConfig;

/// <summary>What the global pools share: (h, w, c) → (c), reduced over the h·w pixels of each channel.</summary>
internal abstract class GlobalPooling2DDescriptor : LayerDescriptor<GlobalPooling2DConfig>
{
    public override Inferred? Infer(LayerContext c) => c.RequireImage()
        ? new Inferred(Shape.Vector(c.Input.Channels), new GlobalPooling2DConfig(c.Input.Height * c.Input.Width, c.Input.Channels))
        : null;

    public override string Signature(LayerModel layer) => TypeName;

    protected static string Args(LayerModel layer) => $"batch, {Config(layer).Pixels}, {Config(layer).Channels}";
}

/// <summary><c>[GlobalAveragePooling2D]</c>: each channel's mean over height and width.</summary>
internal sealed class GlobalAveragePooling2DDescriptor : GlobalPooling2DDescriptor
{
    public override string Kind => "GlobalAveragePooling2D";
    public override string TypeName => "GlobalAveragePooling2D";
    public override string NamePrefix => "global_average_pooling2d";

    public override void EmitCpuForward(CpuForward c)
    {
        c.W.Line($"var {c.Output} = {c.OutputSpan};");
        c.W.Line($"{Code.Cpu}.GlobalPool2D.AverageForward({c.Input}, {c.Output}, {Args(c.Layer)});");
    }

    public override void EmitCpuBackward(CpuBackward c) =>
        c.W.Line(c.HasDx ? $"{Code.Cpu}.GlobalPool2D.AverageBackward({c.Dy}, {c.Dx}, {Args(c.Layer)});" : "// nothing below needs a gradient");

    public override void EmitCudaForward(CudaForward c)
    {
        var k = Config(c.Layer);
        c.W.Line($"var {c.Output} = _{c.Output}.Pointer;");
        c.Launch($"kiln::global_avgpool2d_forward<{k.Pixels}, {k.Channels}>", $"GlobalPool2DForward(batch, {k.Channels})", $"{c.Input}, {c.Output}, batch");
    }

    public override void EmitCudaBackward(CudaBackward c)
    {
        var k = Config(c.Layer);
        if (c.HasDx)
        {
            c.Launch($"kiln::global_avgpool2d_backward<{k.Pixels}, {k.Channels}>", $"GlobalPool2DBackward(batch, {k.Pixels}, {k.Channels})", $"{c.Dy}, {c.Dx}, batch");
        }
    }
}

/// <summary><c>[GlobalMaxPooling2D]</c>: each channel's maximum over height and width, its pixel kept for the backward pass.</summary>
internal sealed class GlobalMaxPooling2DDescriptor : GlobalPooling2DDescriptor
{
    public override string Kind => "GlobalMaxPooling2D";
    public override string TypeName => "GlobalMaxPooling2D";
    public override string NamePrefix => "global_max_pooling2d";

    public override IEnumerable<BufferPlan.Buffer> ExtraBuffers(LayerModel layer, BufferPlan plan)
    {
        yield return new BufferPlan.Buffer("int", plan.Field(layer, "argmax"), $"batch * {layer.Output.Size}");
    }

    public override void EmitCpuForward(CpuForward c)
    {
        c.W.Line($"var {c.Output} = {c.OutputSpan};");
        c.W.Line($"{Code.Cpu}.GlobalPool2D.MaxForward({c.Input}, {c.Output}, {c.Plan.FieldSpan(c.Layer, "argmax", $"batch * {c.Layer.Output.Size}")}, {Args(c.Layer)});");
    }

    public override void EmitCpuBackward(CpuBackward c) =>
        c.W.Line(c.HasDx
            ? $"{Code.Cpu}.GlobalPool2D.MaxBackward({c.Dy}, {c.Plan.FieldSpan(c.Layer, "argmax", $"batch * {c.Layer.Output.Size}")}, {c.Dx}, {Args(c.Layer)});"
            : "// nothing below needs a gradient");

    public override void EmitCudaForward(CudaForward c)
    {
        var k = Config(c.Layer);
        c.W.Line($"var {c.Output} = _{c.Output}.Pointer;");
        c.Launch($"kiln::global_maxpool2d_forward<{k.Pixels}, {k.Channels}>", $"GlobalPool2DForward(batch, {k.Channels})",
            $"{c.Input}, {c.Output}, {c.Plan.Field(c.Layer, "argmax")}.Pointer, batch");
    }

    public override void EmitCudaBackward(CudaBackward c)
    {
        var k = Config(c.Layer);
        if (c.HasDx)
        {
            c.Launch($"kiln::global_maxpool2d_backward<{k.Pixels}, {k.Channels}>", $"GlobalPool2DBackward(batch, {k.Pixels}, {k.Channels})",
                $"{c.Dy}, {c.Plan.Field(c.Layer, "argmax")}.Pointer, {c.Dx}, batch");
        }
    }
}
