using System.Collections.Generic;
using Kiln.Generator.Emitters;
using Kiln.Generator.Model;

namespace Kiln.Generator.Layers;

internal sealed record Conv2DConfig(int Filters, int KernelSize, int Stride, Padding Padding, int PadTop, int PadLeft, Activation Activation, bool UseBias) : LayerConfig;

/// <summary>
/// <c>[Conv2D(filters, kernelSize, padding, activation, Stride = 1, UseBias = true)]</c>: kernel (k, k, in, filters),
/// Keras' <c>same</c>/<c>valid</c> arithmetic. On the CPU a convolution directly under a max pool runs fused with it
/// (see <see cref="BufferPlan"/>); the runtime's <c>Conv2DPlan</c>, one per layer and batch size, picks the algorithm
/// of each pass. The generator passes it only structure: the geometry, the pool after it, the fused epilogue and
/// whether a data gradient is needed.
/// </summary>
internal sealed class Conv2DDescriptor : LayerDescriptor<Conv2DConfig>
{
    public override string Kind => "Conv2D";
    public override string TypeName => "Conv2D";
    public override string NamePrefix => "conv2d";

    public override void Validate(LayerContext c)
    {
        _ = c.Positive(c.Spec.Int("filters"), "filters") & c.Positive(c.Spec.Int("kernelSize"), "kernel size") & c.Positive(c.Spec.Int("stride", 1), "stride");
        c.CheckActivation(c.Spec.Enum("activation", Activation.Linear));
    }

    public override Inferred? Infer(LayerContext c)
    {
        var (filters, size, stride) = (c.Spec.Int("filters"), c.Spec.Int("kernelSize"), c.Spec.Int("stride", 1));
        if (filters <= 0 || size <= 0 || stride <= 0 || !c.RequireImage())
        {
            return null;
        }
        var padding = c.Spec.Enum("padding", Padding.Valid);
        var (oh, padTop) = Windows.Output(c.Input.Height, size, stride, padding);
        var (ow, padLeft) = Windows.Output(c.Input.Width, size, stride, padding);
        var output = Shape.Image(oh, ow, filters);
        if (!c.NonEmpty(output, "kernel", size))
        {
            return null;
        }
        var config = new Conv2DConfig(filters, size, stride, padding, padTop, padLeft, c.Spec.Enum("activation", Activation.Linear), c.Spec.Bool("useBias", true));
        var kernel = Affine.Kernel(size * size * c.Input.Channels, size * size * filters, size, size, c.Input.Channels, filters);
        return config.UseBias ? new Inferred(output, config, kernel, Affine.Bias(filters)) : new Inferred(output, config, kernel);
    }

    public override Activation ActivationOf(LayerModel layer) => Config(layer).Activation;

    public override IEnumerable<BufferPlan.Buffer> ExtraBuffers(LayerModel layer, BufferPlan plan)
    {
        // On the CPU only the backward through a pool writes a bias gradient without a bias; Backward is given none.
        foreach (var buffer in Affine.Buffers(layer, plan, Config(layer).Activation, writesBiasGradient: !plan.ForCpu || plan.FeedsPool(layer.Index)))
        {
            yield return buffer;
        }
        if (plan.FoldsIntoNext(layer.Index))
        {
            yield return new BufferPlan.Buffer("float", FoldedKernel(layer, plan), Code.I(layer.Parameter("kernel")!.Length));
            yield return new BufferPlan.Buffer("float", FoldedBias(layer, plan), Code.I(layer.Output.Channels));
        }
    }

    /// <summary>The kernel and bias with the BatchNormalization after the layer folded in (<see cref="BufferPlan.FoldsIntoNext"/>).</summary>
    public static string FoldedKernel(LayerModel l, BufferPlan plan) => plan.Field(l, "folded_kernel");

    public static string FoldedBias(LayerModel l, BufferPlan plan) => plan.Field(l, "folded_bias");

    /// <summary>The plan that runs the folded convolution at inference, its epilogue the normalisation's activation where that is ReLU.</summary>
    public static string InferencePlan(LayerModel l, BufferPlan plan) => plan.Field(l, "inference_plan");

    public override string Signature(LayerModel l)
    {
        var c = Config(l);
        return $"Conv2D({c.Filters}, {c.KernelSize}, {c.Padding}, {c.Activation}{(c.Stride != 1 ? $", stride {c.Stride}" : "")}{(c.UseBias ? "" : ", no bias")})";
    }

    public override IEnumerable<KeyValuePair<string, string>> KerasConfig(LayerModel l)
    {
        var c = Config(l);
        yield return new("filters", Code.I(c.Filters));
        yield return new("kernel_size", Code.I(c.KernelSize));
        yield return new("strides", Code.I(c.Stride));
        yield return new("padding", Code.Str(c.Padding.ToString().ToLowerInvariant()));
        yield return new("pad_top", Code.I(c.PadTop));
        yield return new("pad_left", Code.I(c.PadLeft));
        foreach (var item in Affine.KerasConfig(c.Activation, c.UseBias))
        {
            yield return item;
        }
    }

    public override void EmitCpuFields(IndentedWriter w, LayerModel l, BufferPlan plan)
    {
        var c = Config(l);
        w.Line($"private static readonly {Code.Cpu}.ConvGeometry {plan.Geometry(l)} = new({l.Input.Height}, {l.Input.Width}, {l.Input.Channels}, {l.Output.Height}, {l.Output.Width}, {l.Output.Channels}, {c.KernelSize}, {c.Stride}, {c.PadTop}, {c.PadLeft});");
    }

    /// <summary>The layer's Conv2DPlan: made for each batch size from the geometry, the pool it feeds (if the plan backpropagates through it), the fused epilogue and whether a data gradient is needed.</summary>
    public override IEnumerable<BufferPlan.CpuObject> CpuObjects(LayerModel l, BufferPlan plan)
    {
        var pool = plan.FeedsPool(l.Index) ? plan.Geometry(plan.Next(l)) : "null";
        var epilogue = Affine.CpuEpilogue(Config(l).Activation);
        var data = plan.NeedsInputGradient(l.Index) ? "" : ", dataGradient: false";
        yield return new BufferPlan.CpuObject($"{Code.Cpu}.Conv2DPlan", Plan(l, plan), $"new {Code.Cpu}.Conv2DPlan(in {plan.Geometry(l)}, {pool}, {epilogue}, batch{data})");
        if (plan.FoldsIntoNext(l.Index))
        {
            yield return new BufferPlan.CpuObject($"{Code.Cpu}.Conv2DPlan", InferencePlan(l, plan),
                $"new {Code.Cpu}.Conv2DPlan(in {plan.Geometry(l)}, {(BatchNormalizationDescriptor.FoldedPool(plan, l) is { } folded ? plan.Geometry(folded) : "null")}, {Code.Epilogue(BatchNormalizationDescriptor.FoldedEpilogue(plan, plan.Next(l)))}, batch, dataGradient: false)");
        }
    }

    public override string? CpuScratch(LayerModel l, BufferPlan plan) =>
        plan.FoldsIntoNext(l.Index) ? $"global::System.Math.Max({Plan(l, plan)}.ScratchSize, {InferencePlan(l, plan)}.ScratchSize)" : $"{Plan(l, plan)}.ScratchSize";

    private static string Plan(LayerModel l, BufferPlan plan) => plan.Field(l, "plan");

    public override void EmitCpuForward(CpuForward c)
    {
        var l = c.Layer;
        if (c.Plan.PoolsInForward(l.Index))
        {
            // The pool below convolves and pools in one pass; this layer's output is never stored.
            c.W.Line("// computed with the pooling below (Conv2DPlan.ForwardPooled)");
            return;
        }
        var target = Affine.CpuTarget(c, Config(l).Activation).Target;
        c.W.Line($"var {c.Output} = {c.OutputSpan};");
        if (c.Plan.FoldsIntoNext(l.Index))
        {
            // At inference the BatchNormalization below runs this convolution, folded.
            c.W.Open("if (training)");
        }
        c.W.Line($"{Plan(l, c.Plan)}.Forward({c.Input}, {c.P("kernel")}, {Affine.CpuBias(l, c.Plan)}, {target}, batch, {BufferPlan.ScratchField});");
        if (c.Plan.FoldsIntoNext(l.Index))
        {
            c.W.Close();
        }
        Affine.CpuActivate(c, Config(l).Activation);
    }

    /// <summary>The fused forward of this convolution and the max pool below it, emitted in the pool's place.</summary>
    public static void EmitCpuForwardPooled(CpuForward pool, LayerModel conv, string argmax)
    {
        var p = CpuForward.Slice(conv, "kernel", "p");
        var b = Affine.CpuBias(conv, pool.Plan);
        pool.W.Line($"{Plan(conv, pool.Plan)}.ForwardPooled({pool.Input}, {p}, {b}, {pool.Output}, {argmax}, batch, {BufferPlan.ScratchField});");
    }

    public override void EmitCpuBackward(CpuBackward c)
    {
        var l = c.Layer;
        var plan = c.Plan;
        var i = l.Index;
        var dx = c.HasDx ? c.Dx : "default";
        if (plan.FeedsPool(i))
        {
            // From the pool's gradient, output and argmax; the plan applies the activation's derivative.
            var below = plan.Next(l);
            c.W.Line($"{Plan(l, plan)}.BackwardThroughPool({c.X}, {c.GradientOf(i + 1)}, {c.OutputOf(below)}, {MaxPool2DDescriptor.Argmax(plan, below)}, {c.P("kernel")}, {c.G("kernel")}, {Affine.CpuBiasGradient(l, plan)}, {dx}, batch, {BufferPlan.ScratchField});");
            return;
        }
        Affine.CpuDeactivate(c, Config(l).Activation);
        // Without a bias, no bias gradient: the plan skips that pass over dz.
        var db = l.Parameter("bias") is null ? "default" : Affine.CpuBiasGradient(l, plan);
        c.W.Line($"{Plan(l, plan)}.Backward({c.X}, {c.Dy}, {c.P("kernel")}, {c.G("kernel")}, {db}, {dx}, batch, {BufferPlan.ScratchField});");
    }

    public override string? CudaWorkspace(LayerModel l) =>
        $"{Code.CudaGeometry}.Conv2DWeightWorkspace(batch, {l.Output.Height}, {l.Output.Width}, {Config(l).KernelSize}, {l.Input.Channels}, {l.Output.Channels})";

    public override void EmitCudaForward(CudaForward c)
    {
        var l = c.Layer;
        var act = Config(l).Activation;
        var target = Affine.Separate(act) ? $"{c.Plan.Field(l, Affine.PreActivation)}.Pointer" : c.Output;
        c.W.Line($"var {c.Output} = _{c.Output}.Pointer;");
        c.Launch($"kiln::conv2d_forward<{Args(l)}, {(Affine.Separate(act) ? 0 : Code.ActCode(act))}>", $"Conv2DForward(batch, {l.Output.Height}, {l.Output.Width}, {l.Output.Channels})",
            $"{c.Input}, {c.P("kernel")}, {Affine.CudaBias(l, c.Plan)}, {target}, batch");
        if (Affine.Separate(act))
        {
            c.Launch($"kiln::activation_layer_forward<{l.Output.Size}, {Code.ActCode(act)}>", $"Elementwise(batch * {l.Output.Size}L)", $"{target}, {c.Output}, batch, {Code.F(Code.DefaultAlpha(act))}f");
        }
    }

    public override void EmitCudaBackward(CudaBackward c)
    {
        var l = c.Layer;
        var k = Config(l).KernelSize;
        Affine.CudaDeactivate(c, Config(l).Activation);
        var weights = k * k * l.Input.Channels * l.Output.Channels;
        c.Launch($"kiln::conv2d_backward_weights<{Args(l)}>", $"Conv2DBackwardWeights(batch, {l.Output.Height}, {l.Output.Width}, {k}, {l.Input.Channels}, {l.Output.Channels})",
            $"{c.X}, {c.Dy}, _workspace.Pointer, batch");
        c.Launch($"kiln::conv2d_weight_grad_reduce<{weights}, {l.Output.Channels}>", $"Conv2DWeightGradReduce({k}, {l.Input.Channels}, {l.Output.Channels})",
            $"_workspace.Pointer, {c.G("kernel")}, {Affine.CudaBiasGradient(l, c.Plan)}, {Code.CudaGeometry}.WeightSplits(batch, {l.Output.Height}, {l.Output.Width})");
        if (c.HasDx)
        {
            c.Launch($"kiln::conv2d_backward_data<{Args(l)}>", $"Conv2DBackwardData(batch, {l.Input.Height}, {l.Input.Width}, {l.Input.Channels})",
                $"{c.Dy}, {c.P("kernel")}, {c.Dx}, batch");
        }
    }

    private static string Args(LayerModel l)
    {
        var c = Config(l);
        return $"{l.Input.Height}, {l.Input.Width}, {l.Input.Channels}, {l.Output.Height}, {l.Output.Width}, {l.Output.Channels}, {c.KernelSize}, {c.Stride}, {c.PadTop}, {c.PadLeft}";
    }
}
