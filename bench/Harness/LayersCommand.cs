using System.Diagnostics;
using System.Globalization;
using Kiln;
using Kiln.Runtime.Cpu;

namespace Nets;

/// <summary>
/// Per-convolution timings of the `nets` networks: each Conv2D layer's plan at the network's batch, its forward and
/// backward passes on random data, in ms and in direct-equivalent GFLOP/s against the GEMM calibration (issue 20's
/// "compute-bound layers at 60 % of the machine's FMA peak"). The plan is the one the generated executor makes: the
/// pool is fused when a max pool follows directly, the activation is the layer's own. Static; one run at a time.
/// </summary>
internal static class LayersCommand
{
    public static int Run(string? filter, double seconds)
    {
        var calibration = Measure.GemmRate();
        Console.WriteLine(Invariant($"calibration: Kiln's 512³ GEMM at {calibration:0} GFLOP/s; each pass repeated for {seconds:0.##} s, best time"));
        Console.WriteLine("GFLOP/s count the direct convolution's 2·multiply-adds (Winograd does fewer, so its rate can pass 100 %)");
        Console.WriteLine();
        Console.WriteLine("| network | layer | shape | batch | paths (forward / data / weights) | forward ms | backward ms | of which weights ms | forward GFLOP/s (%) | backward GFLOP/s (%) |");
        Console.WriteLine("|---|---|---|---:|---|---:|---:|---:|---:|---:|");
        foreach (var spec in NetsCommand.All.Where(s => filter is null || filter.Split(',').Contains(s.Name)))
        {
            using var net = spec.Create();
            var layers = net.Info.Layers;
            for (var i = 0; i < layers.Count; i++)
            {
                if (layers[i].Type != "Conv2D")
                {
                    continue;
                }
                var next = i + 1 < layers.Count && layers[i + 1].Type == "MaxPooling2D" ? layers[i + 1] : null;
                Row(spec, layers[i], next, first: layers.Take(i).All(l => l.Type is "Rescaling"), calibration, seconds);
            }
        }
        return 0;
    }

    private static void Row(NetSpec spec, LayerInfo conv, LayerInfo? poolLayer, bool first, double calibration, double seconds)
    {
        var (inShape, outShape) = (conv.InputShape, conv.OutputShape);
        var g = new ConvGeometry(inShape[0], inShape[1], inShape[2], outShape[0], outShape[1], outShape[2],
            conv.Get("kernel_size", 0), conv.Get("strides", 1), conv.Get("pad_top", 0), conv.Get("pad_left", 0));
        PoolGeometry? pool = poolLayer is null ? null : new PoolGeometry(outShape[0], outShape[1], outShape[2], poolLayer.OutputShape[0], poolLayer.OutputShape[1],
            poolLayer.Get("pool_size", 2), poolLayer.Get("strides", 2), poolLayer.Get("pad_top", 0), poolLayer.Get("pad_left", 0));
        var act = conv.Get("activation", "linear") switch { "relu" => Epilogue.Relu, "tanh" => Epilogue.Tanh, _ => Epilogue.Linear };
        var batch = spec.Batch;
        var plan = new Conv2DPlan(in g, pool, act, batch, dataGradient: !first);
        var random = new Random(1);
        float[] Random(long n) => [.. Enumerable.Range(0, (int)n).Select(_ => random.NextSingle() * 2 - 1)];
        var x = Random((long)batch * g.InSize);
        var w = Random((long)g.PatchSize * g.OutC);
        var bias = Random(g.OutC);
        var (dw, db) = (new float[w.Length], new float[g.OutC]);
        var dx = first ? [] : new float[x.Length];
        var scratch = new float[plan.ScratchSize];
        Action forward, backward;
        Action? weightsOnly = null;
        if (plan.PoolsInForward && pool is { } p)
        {
            var (y, argmax) = (new float[batch * p.OutSize], new int[batch * p.OutSize]);
            var dy = Random(y.Length);
            forward = () => plan.ForwardPooled(x, w, bias, y, argmax, batch, scratch);
            backward = () => plan.BackwardThroughPool(x, dy, y, argmax, w, dw, db, dx, batch, scratch);
        }
        else if (pool is { } q)
        {
            var (z, y, argmax) = (new float[batch * g.OutSize], new float[batch * q.OutSize], new int[batch * q.OutSize]);
            var dy = Random(y.Length);
            forward = () =>
            {
                plan.Forward(x, w, bias, z, batch, scratch);
                MaxPool2D.Forward(z, y, argmax, batch, q);
            };
            backward = () => plan.BackwardThroughPool(x, dy, y, argmax, w, dw, db, dx, batch, scratch);
        }
        else
        {
            var (y, dz) = (new float[batch * g.OutSize], Random((long)batch * g.OutSize));
            forward = () => plan.Forward(x, w, bias, y, batch, scratch);
            backward = () => plan.Backward(x, dz, w, dw, db, dx, batch, scratch);
            // The weight gradient alone, from a plan without a data gradient (without a pool its path is the same).
            var alone = new Conv2DPlan(in g, null, act, batch, dataGradient: false);
            weightsOnly = () => alone.Backward(x, dz, w, dw, db, [], batch, scratch);
        }
        forward();
        backward();
        var macs = (double)batch * g.OutH * g.OutW * g.OutC * g.PatchSize;
        var (f, b) = (Best(forward, seconds), Best(backward, seconds));
        var weights = weightsOnly is null || first ? "" : Invariant($"{Best(weightsOnly, seconds) * 1e3:0.00}");
        var backwardFlops = 2 * macs * (first ? 1 : 2);
        string Rate(double flops, double s) => Invariant($"{flops / s / 1e9:0.0} ({100 * flops / s / 1e9 / calibration:0}%)");
        Console.WriteLine(Invariant($"| {spec.Name} | {conv.Name} | {g.InH}×{g.InW}×{g.InC} → {g.OutH}×{g.OutW}×{g.OutC}, {g.Kernel}×{g.Kernel}{(pool is null ? "" : ", pooled")} | {batch} | {plan.ForwardPath} / {plan.DataPath} / {plan.WeightPath} | {f * 1e3:0.00} | {b * 1e3:0.00} | {weights} | {Rate(2 * macs, f)} | {Rate(backwardFlops, b)} |"));
    }

    private static double Best(Action pass, double seconds)
    {
        var best = double.MaxValue;
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds)
        {
            var clock = Stopwatch.StartNew();
            pass();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
