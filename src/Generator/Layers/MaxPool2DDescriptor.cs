using System.Collections.Generic;
using Kiln.Generator.Emitters;
using Kiln.Generator.Model;

namespace Kiln.Generator.Layers;

internal sealed record MaxPool2DConfig(PoolConfig Window) : LayerConfig
{
    public int PoolSize => Window.PoolSize;
    public int Stride => Window.Stride;
}

/// <summary>
/// <c>[MaxPool2D(poolSize, stride, padding)]</c>: the first maximum of each window (row-major), its index kept in
/// an argmax buffer for the backward pass. On the CPU it may absorb the convolution above it, or a BatchNormalization
/// and its ReLU (see <see cref="BufferPlan"/>).
/// </summary>
internal sealed class MaxPool2DDescriptor : LayerDescriptor<MaxPool2DConfig>
{
    public override string Kind => "MaxPool2D";
    public override string TypeName => "MaxPooling2D";
    public override string NamePrefix => "max_pooling2d";

    public override void Validate(LayerContext c) => PoolWindow.Validate(c);

    public override Inferred? Infer(LayerContext c) =>
        PoolWindow.Infer(c) is var (output, window) ? new Inferred(output, new MaxPool2DConfig(window)) : null;

    public override IEnumerable<BufferPlan.Buffer> ExtraBuffers(LayerModel layer, BufferPlan plan)
    {
        yield return new BufferPlan.Buffer("int", plan.Field(layer, "argmax"), $"batch * {layer.Output.Size}");
    }

    public override string Signature(LayerModel layer) => PoolWindow.Signature("MaxPool2D", Config(layer).Window);

    public override IEnumerable<KeyValuePair<string, string>> KerasConfig(LayerModel layer) => PoolWindow.KerasConfig(Config(layer).Window);

    public override void EmitCpuFields(IndentedWriter w, LayerModel layer, BufferPlan plan) => PoolWindow.EmitCpuGeometry(w, layer, plan, Config(layer).Window);

    /// <summary>The argmax buffer at the batch's length.</summary>
    public static string Argmax(BufferPlan plan, LayerModel pool) => plan.FieldSpan(pool, "argmax", $"batch * {pool.Output.Size}");

    public override void EmitCpuForward(CpuForward c)
    {
        // Only the backward pass reads a pool's argmax: predictions and evaluation pass an empty span, which is not written.
        var argmax = $"training ? {Argmax(c.Plan, c.Layer)} : default";
        c.W.Line($"var {c.Output} = {c.OutputSpan};");
        if (c.Plan.PoolsInForward(c.Layer.Index - 1))
        {
            Conv2DDescriptor.EmitCpuForwardPooled(c, c.Model.Layers[c.Layer.Index - 1], argmax);
            return;
        }
        if (c.Plan.ActivatesIntoPool(c.Layer.Index - 1))
        {
            var activation = c.Model.Layers[c.Layer.Index - 1];
            var (function, alpha) = ActivationLayerDescriptor.Of(activation);
            BatchNormalizationDescriptor.EmitCpuForwardPooled(c, c.Model.Layers[activation.Index - 1], function, alpha, Argmax(c.Plan, c.Layer));
            return;
        }
        c.W.Line($"{Code.Cpu}.MaxPool2D.Forward({c.Input}, {c.Output}, {argmax}, batch, in {c.Geometry});");
    }

    public override void EmitCpuBackward(CpuBackward c)
    {
        if (c.Plan.FeedsPool(c.Layer.Index - 1))
        {
            c.W.Line("// read by the convolution's backward below (Conv2DPlan.BackwardThroughPool)");
            return;
        }
        if (c.Plan.NormalisesThroughPool(c.Layer.Index - 1))
        {
            c.W.Line("// read by the normalisation's backward below (BatchNorm.BackwardThroughPool)");
            return;
        }
        c.W.Line(c.HasDx ? $"{Code.Cpu}.MaxPool2D.Backward({c.Dy}, {Argmax(c.Plan, c.Layer)}, {c.Dx}, batch, in {c.Geometry});" : "// nothing below needs a gradient");
    }

    public override void EmitCudaForward(CudaForward c)
    {
        var l = c.Layer;
        c.W.Line($"var {c.Output} = _{c.Output}.Pointer;");
        c.Launch($"kiln::maxpool2d_forward<{PoolWindow.CudaArgs(l, Config(l).Window)}>", $"MaxPool2DForward(batch, {l.Output.Height}, {l.Output.Width}, {l.Output.Channels})",
            $"{c.Input}, {c.Output}, {c.Plan.Field(l, "argmax")}.Pointer, batch");
    }

    public override void EmitCudaBackward(CudaBackward c)
    {
        var l = c.Layer;
        if (c.HasDx)
        {
            c.Launch($"kiln::maxpool2d_backward<{PoolWindow.CudaArgs(l, Config(l).Window)}>", $"MaxPool2DBackward(batch, {l.Input.Height}, {l.Input.Width}, {l.Input.Channels})",
                $"{c.Dy}, {c.Plan.Field(l, "argmax")}.Pointer, {c.Dx}, batch");
        }
    }
}
