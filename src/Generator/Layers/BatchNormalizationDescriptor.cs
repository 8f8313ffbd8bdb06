using System.Collections.Generic;
using Kiln.Generator.Emitters;
using Kiln.Generator.Model;

namespace Kiln.Generator.Layers;

internal sealed record BatchNormalizationConfig(double Momentum, double Epsilon, bool Center, bool Scale, int Channels) : LayerConfig;

/// <summary>
/// <c>[BatchNormalization(momentum, epsilon, center, scale)]</c> over the last axis: batch statistics while training
/// (which also update the moving ones), moving statistics otherwise. Tensors in Keras' order: gamma, beta (trainable),
/// moving_mean, moving_variance (non-trainable, after every trainable tensor in the flat buffer).
/// </summary>
internal sealed class BatchNormalizationDescriptor : LayerDescriptor<BatchNormalizationConfig>
{
    public override string Kind => "BatchNormalization";
    public override string TypeName => "BatchNormalization";
    public override string NamePrefix => "batch_normalization";

    public override void Validate(LayerContext c)
    {
        var momentum = c.Spec.Double("momentum", 0.99);
        var epsilon = c.Spec.Double("epsilon", 1e-3);
        c.InRange(momentum, momentum is >= 0 and <= 1, "momentum", "in [0, 1]");
        c.InRange(epsilon, epsilon > 0 && !double.IsInfinity(epsilon), "epsilon", "positive");
    }

    public override Inferred? Infer(LayerContext c)
    {
        var channels = c.Input.Rank == 1 ? c.Input.Size : c.Input.Channels;
        var config = new BatchNormalizationConfig(c.Spec.Double("momentum", 0.99), c.Spec.Double("epsilon", 1e-3),
            c.Spec.Bool("center", true), c.Spec.Bool("scale", true), channels);
        var shape = new[] { channels }.ToEquatableArray();
        var tensors = new List<ParameterModel>();
        if (config.Scale)
        {
            tensors.Add(new ParameterModel("gamma", shape, "Ones", Trainable: true));
        }
        if (config.Center)
        {
            tensors.Add(new ParameterModel("beta", shape, "Zeros", Trainable: true));
        }
        tensors.Add(new ParameterModel("moving_mean", shape, "Zeros", Trainable: false));
        tensors.Add(new ParameterModel("moving_variance", shape, "Ones", Trainable: false));
        return new Inferred(c.Input, config, [.. tensors]);
    }

    public override IEnumerable<BufferPlan.Buffer> ExtraBuffers(LayerModel layer, BufferPlan plan)
    {
        var channels = Code.I(Config(layer).Channels);
        yield return new BufferPlan.Buffer("float", plan.Field(layer, "mean"), channels);
        yield return new BufferPlan.Buffer("float", plan.Field(layer, "inv_std"), channels);
        if (!plan.ForCpu)
        {
            // The CUDA reductions' per-split partial sums, then the two per-channel sums of the backward pass.
            yield return new BufferPlan.Buffer("float", plan.Field(layer, "workspace"), $"{Code.CudaGeometry}.BatchNormWorkspace({Rows(layer)}, {channels})");
            yield return new BufferPlan.Buffer("float", plan.Field(layer, "sums"), Code.I(2 * Config(layer).Channels));
        }
    }

    public override string Signature(LayerModel layer) => $"BatchNormalization(momentum {Code.F(Config(layer).Momentum)}, epsilon {Code.F(Config(layer).Epsilon)})";

    public override IEnumerable<KeyValuePair<string, string>> KerasConfig(LayerModel layer)
    {
        var c = Config(layer);
        yield return new("momentum", Code.F(c.Momentum) + "f");
        yield return new("epsilon", Code.F(c.Epsilon) + "f");
        yield return new("center", c.Center ? "true" : "false");
        yield return new("scale", c.Scale ? "true" : "false");
    }

    /// <summary>Rows of the normalised matrix: one per example after Dense, one per pixel after Conv2D.</summary>
    private static string Rows(LayerModel l) => l.Input.Rank == 1 ? "batch" : $"batch * {l.Input.Height * l.Input.Width}";

    public override void EmitCpuForward(CpuForward c)
    {
        if (c.Plan.Activates(c.Layer.Index))
        {
            c.W.Line("// computed with the activation below");
            return;
        }
        EmitCpuForward(c, c.Layer, c.Output, null);
    }

    /// <summary>The normalisation of <paramref name="bn"/> with the activation layer after it, emitted as that layer's forward.</summary>
    public static void EmitCpuForwardActivated(CpuForward activation, LayerModel bn, Activation function, double alpha) =>
        EmitCpuForward(activation, bn, activation.Output, (function, alpha));

    /// <summary>
    /// The normalisation of <paramref name="bn"/>, its activation layer and the max pool after it, emitted as the pool's
    /// forward into the pool's output (declared by the pool).
    /// </summary>
    public static void EmitCpuForwardPooled(CpuForward pool, LayerModel bn, Activation function, double alpha, string argmax)
    {
        var k = Config(bn);
        var p = (string tensor) => CpuForward.Slice(bn, tensor, "p");
        var statistics = $"{p("moving_mean")}, {p("moving_variance")}";
        var act = $"{Code.Epilogue(function)}, {Code.F(alpha)}f";
        pool.W.Open("if (training)");
        pool.W.Line($"{Code.Cpu}.BatchNorm.ForwardTrainingPooled({pool.Input}, {p("gamma")}, {p("beta")}, {pool.Output}, {argmax}, {pool.Plan.Field(bn, "mean")}, {pool.Plan.Field(bn, "inv_std")}, {statistics}, batch, in {pool.Geometry}, {Code.F(k.Momentum)}f, {Code.F(k.Epsilon)}f, {act});");
        pool.W.Close();
        pool.W.Open("else");
        if (FoldedPool(pool.Plan, pool.Model.Layers[bn.Index - 1]) is not null)
        {
            // The folded convolution and the pool as one kernel (its plan was made with the pool); the activation, if
            // its epilogue is not it, after the pool: ReLU and LeakyReLU are increasing, so they commute with the max.
            EmitFold(pool, bn);
            var conv = pool.Model.Layers[bn.Index - 1];
            pool.W.Line($"{Conv2DDescriptor.InferencePlan(conv, pool.Plan)}.ForwardPooled({pool.Plan.InputOf(conv)}, {Conv2DDescriptor.FoldedKernel(conv, pool.Plan)}, {Conv2DDescriptor.FoldedBias(conv, pool.Plan)}, {pool.Output}, default, batch, {BufferPlan.ScratchField});");
            if (FoldedEpilogue(pool.Plan, bn) != function)
            {
                pool.W.Line($"{Code.Cpu}.Activations.Forward({pool.Output}, {pool.Output}, {Code.Epilogue(function)}, {Code.F(alpha)}f);");
            }
        }
        else if (pool.Plan.FoldsIntoNext(bn.Index - 1))
        {
            // The folded convolution into its own output (free at inference), then the pool.
            EmitFolded(pool, bn, pool.Input, (function, alpha));
            pool.W.Line($"{Code.Cpu}.MaxPool2D.Forward({pool.Input}, {pool.Output}, default, batch, in {pool.Geometry});");
        }
        else
        {
            pool.W.Line($"{Code.Cpu}.BatchNorm.ForwardInferencePooled({pool.Input}, {p("gamma")}, {p("beta")}, {statistics}, {pool.Output}, batch, in {pool.Geometry}, {Code.F(k.Epsilon)}f, {act});");
        }
        pool.W.Close();
    }

    /// <summary>
    /// The epilogue of a convolution folded with <paramref name="bn"/> at inference: the activation fused with the
    /// normalisation where the convolution's plan applies it exactly (ReLU), else linear.
    /// </summary>
    public static Activation FoldedEpilogue(BufferPlan plan, LayerModel bn) =>
        plan.Activates(bn.Index) && ActivationLayerDescriptor.Of(plan.Next(bn)).Function == Activation.Relu ? Activation.Relu : Activation.Linear;

    private static void EmitCpuForward(CpuForward c, LayerModel l, string output, (Activation Function, double Alpha)? activation)
    {
        var k = Config(l);
        var p = (string tensor) => CpuForward.Slice(l, tensor, "p");
        var statistics = $"{p("moving_mean")}, {p("moving_variance")}";
        var fused = activation is { } a ? $", {Code.Epilogue(a.Function)}, {Code.F(a.Alpha)}f" : "";
        c.W.Line($"var {output} = {c.OutputSpan};");
        c.W.Open("if (training)");
        c.W.Line($"{Code.Cpu}.BatchNorm.ForwardTraining({c.Input}, {p("gamma")}, {p("beta")}, {output}, {c.Plan.Field(l, "mean")}, {c.Plan.Field(l, "inv_std")}, {statistics}, {Rows(l)}, {k.Channels}, {Code.F(k.Momentum)}f, {Code.F(k.Epsilon)}f{fused});");
        c.W.Close();
        c.W.Open("else");
        if (c.Plan.FoldsIntoNext(l.Index - 1))
        {
            EmitFolded(c, l, output, activation);
        }
        else
        {
            c.W.Line($"{Code.Cpu}.BatchNorm.ForwardInference({c.Input}, {p("gamma")}, {p("beta")}, {statistics}, {output}, {Rows(l)}, {k.Channels}, {Code.F(k.Epsilon)}f{fused});");
        }
        c.W.Close();
    }

    // The convolution above with this normalisation folded into its kernel and bias (refolded each call: O(kernel); the
    // plan's Winograd transform is kept while the folded kernel's bits stay the same), then any activation its plan's
    // epilogue does not apply.
    private static void EmitFolded(CpuForward c, LayerModel l, string output, (Activation Function, double Alpha)? activation)
    {
        var conv = c.Model.Layers[l.Index - 1];
        EmitFold(c, l);
        c.W.Line($"{Conv2DDescriptor.InferencePlan(conv, c.Plan)}.Forward({c.Plan.InputOf(conv)}, {Conv2DDescriptor.FoldedKernel(conv, c.Plan)}, {Conv2DDescriptor.FoldedBias(conv, c.Plan)}, {output}, batch, {BufferPlan.ScratchField});");
        if (activation is { } a && FoldedEpilogue(c.Plan, l) != a.Function)
        {
            c.W.Line($"{Code.Cpu}.Activations.Forward({output}, {output}, {Code.Epilogue(a.Function)}, {Code.F(a.Alpha)}f);");
        }
    }

    // The kernel and bias of the convolution above with this normalisation folded in.
    private static void EmitFold(CpuForward c, LayerModel l)
    {
        var conv = c.Model.Layers[l.Index - 1];
        var p = (string tensor) => CpuForward.Slice(l, tensor, "p");
        c.W.Line($"{Code.Cpu}.BatchNorm.Fold({CpuForward.Slice(conv, "kernel", "p")}, {CpuForward.Slice(conv, "bias", "p")}, {p("gamma")}, {p("beta")}, {p("moving_mean")}, {p("moving_variance")}, {Code.F(Config(l).Epsilon)}f, {Conv2DDescriptor.FoldedKernel(conv, c.Plan)}, {Conv2DDescriptor.FoldedBias(conv, c.Plan)});");
    }

    /// <summary>
    /// The max pool that a folded convolution's inference plan runs with it: the one after this normalisation and its
    /// activation when they run through it with non-overlapping windows (<see cref="BufferPlan.NormalisesThroughPool"/>); else null.
    /// </summary>
    public static LayerModel? FoldedPool(BufferPlan plan, LayerModel conv) =>
        plan.FoldsIntoNext(conv.Index) && plan.NormalisesThroughPool(conv.Index + 2) ? plan.Next(plan.Next(plan.Next(conv))) : null;

    public override void EmitCpuBackward(CpuBackward c)
    {
        var l = c.Layer;
        var dx = c.HasDx ? c.Dx : "default";
        var tail = $"{c.P("gamma")}, {c.Plan.Field(l, "mean")}, {c.Plan.Field(l, "inv_std")}, {dx}, {c.G("gamma")}, {c.G("beta")}, {Rows(l)}, {Config(l).Channels}";
        if (c.Plan.Activates(l.Index))
        {
            // The activation's gradient becomes this layer's in place (BatchNorm's fused backward).
            var next = c.Plan.Next(l);
            var (function, alpha) = ActivationLayerDescriptor.Of(next);
            if (c.Plan.NormalisesThroughPool(next.Index))
            {
                // From the pool's gradient and argmax: the activation's gradient is never stored.
                var pool = c.Plan.Next(next);
                var pooled = $"{c.P("gamma")}, {c.P("beta")}, {c.Plan.Field(l, "mean")}, {c.Plan.Field(l, "inv_std")}, {dx}, {c.G("gamma")}, {c.G("beta")}, batch, in {c.Plan.Geometry(pool)}";
                c.W.Line($"{Code.Cpu}.BatchNorm.BackwardThroughPool({c.X}, {c.GradientOf(pool.Index)}, {MaxPool2DDescriptor.Argmax(c.Plan, pool)}, {Code.Epilogue(function)}, {Code.F(alpha)}f, {pooled});");
                return;
            }
            // ReLU's and LeakyReLU's derivative comes from the sign of the recomputed normalised value: no output read.
            var output = function is Activation.Relu or Activation.LeakyRelu ? "default" : c.OutputOf(next);
            var fused = $"{c.P("gamma")}, {c.P("beta")}, {c.Plan.Field(l, "mean")}, {c.Plan.Field(l, "inv_std")}, {dx}, {c.G("gamma")}, {c.G("beta")}, {Rows(l)}, {Config(l).Channels}";
            c.W.Line($"{Code.Cpu}.BatchNorm.Backward({c.X}, {output}, {c.GradientOf(next.Index)}, {Code.Epilogue(function)}, {Code.F(alpha)}f, {fused});");
            return;
        }
        c.W.Line($"{Code.Cpu}.BatchNorm.Backward({c.X}, {c.Dy}, {tail});");
    }

    public override void EmitCudaForward(CudaForward c)
    {
        var l = c.Layer;
        var k = Config(l);
        var ch = k.Channels;
        var (mean, invStd, workspace) = ($"{c.Plan.Field(l, "mean")}.Pointer", $"{c.Plan.Field(l, "inv_std")}.Pointer", $"{c.Plan.Field(l, "workspace")}.Pointer");
        var rows = Rows(l);
        c.W.Line($"var {c.Output} = _{c.Output}.Pointer;");
        c.W.Open("if (training)");
        c.Launch($"kiln::batchnorm_sums<{ch}>", $"BatchNormReduce({rows}, {ch})", $"{c.Input}, {workspace}, {rows}");
        c.Launch($"kiln::batchnorm_square_sums<{ch}>", $"BatchNormReduce({rows}, {ch})", $"{c.Input}, {mean}, {workspace}, {rows}");
        c.Launch($"kiln::batchnorm_variance<{ch}>", $"BatchNormPerChannel({ch})",
            $"{workspace}, {mean}, {invStd}, {c.P("moving_mean")}, {c.P("moving_variance")}, {rows}, {Code.CudaGeometry}.BatchNormSplits({rows}), {F(k.Momentum)}, {F(k.Epsilon)}");
        c.Launch($"kiln::batchnorm_normalize<{ch}>", $"Elementwise((long)({rows}) * {ch})", $"{c.Input}, {c.P("gamma")}, {c.P("beta")}, {mean}, {invStd}, {c.Output}, {rows}");
        c.W.Close();
        c.W.Open("else");
        c.Launch($"kiln::batchnorm_inference<{ch}>", $"Elementwise((long)({rows}) * {ch})",
            $"{c.Input}, {c.P("gamma")}, {c.P("beta")}, {c.P("moving_mean")}, {c.P("moving_variance")}, {c.Output}, {rows}, {F(k.Epsilon)}");
        c.W.Close();
    }

    public override void EmitCudaBackward(CudaBackward c)
    {
        var l = c.Layer;
        var ch = Config(l).Channels;
        var (mean, invStd, workspace, sums) = ($"{c.Plan.Field(l, "mean")}.Pointer", $"{c.Plan.Field(l, "inv_std")}.Pointer", $"{c.Plan.Field(l, "workspace")}.Pointer", $"{c.Plan.Field(l, "sums")}.Pointer");
        var rows = Rows(l);
        c.Launch($"kiln::batchnorm_backward_sums<{ch}>", $"BatchNormReduce({rows}, {ch})", $"{c.X}, {c.Dy}, {mean}, {invStd}, {workspace}, {rows}");
        c.Launch($"kiln::batchnorm_backward_params<{ch}>", $"BatchNormPerChannel({ch})", $"{workspace}, {sums}, {c.G("gamma")}, {c.G("beta")}, {Code.CudaGeometry}.BatchNormSplits({rows})");
        if (c.HasDx)
        {
            c.Launch($"kiln::batchnorm_backward_data<{ch}>", $"Elementwise((long)({rows}) * {ch})", $"{c.X}, {c.Dy}, {c.P("gamma")}, {mean}, {invStd}, {sums}, {c.Dx}, {rows}");
        }
    }

    private static string F(double value) => Code.F(value) + "f";
}
