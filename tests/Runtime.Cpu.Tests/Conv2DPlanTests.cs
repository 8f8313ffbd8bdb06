using Kiln.Oracles;

namespace Kiln.Runtime.Cpu.Tests;

/// <summary>
/// <see cref="Conv2DPlan"/>: which path it takes for which geometry, pool and batch; that every pass stays inside the
/// scratch it reports; and that each path's outputs agree with the float64 oracle.
/// </summary>
[Collection(nameof(ThreadingTests))]
public class Conv2DPlanTests
{
    private const int Guard = 256;
    private static readonly float Sentinel = BitConverter.Int32BitsToSingle(0x7FC0_1234);

    public static TheoryData<string, bool, int, Epilogue, Conv2DForwardPath, Conv2DDataPath, Conv2DWeightPath> Cases() => new()
    {
        // The workshop CNN: its first convolution (one input channel, so no Winograd) needs no data gradient, so its lists are never stored.
        { "mnist conv1 + pool 2", false, 3, Epilogue.Relu, Conv2DForwardPath.ImplicitGemm, Conv2DDataPath.None, Conv2DWeightPath.SparseThroughPool },
        { "mnist conv2 + pool 2", true, 2, Epilogue.Relu, Conv2DForwardPath.Winograd, Conv2DDataPath.WinogradThroughPool, Conv2DWeightPath.SparseLists },
        { "mnist conv2 + pool 2", true, 130, Epilogue.Relu, Conv2DForwardPath.Winograd, Conv2DDataPath.WinogradThroughPool, Conv2DWeightPath.SparseLists },
        // Channels not in whole vectors: no Winograd anywhere.
        { "13x11x3→5 k5 + same pool 2", true, 3, Epilogue.Tanh, Conv2DForwardPath.ImplicitGemm, Conv2DDataPath.SparseGather, Conv2DWeightPath.SparseLists },
        // 3×3 windows, non-overlapping: fused forward, but no Winograd under a pool off its tile grid.
        { "9x9x8→16 k5 + same pool 3", true, 2, Epilogue.Linear, Conv2DForwardPath.ImplicitGemm, Conv2DDataPath.SparseGather, Conv2DWeightPath.SparseLists },
        // Overlapping windows: the forward is not fused (Winograd alone), the gradient goes through stored lists.
        { "9x9x8→16 k5 + overlapping pool 3 s2", true, 2, Epilogue.Elu, Conv2DForwardPath.Winograd, Conv2DDataPath.SparseGather, Conv2DWeightPath.SparseLists },
        { "9x9x8→16 k5 + overlapping pool 3 s2", false, 2, Epilogue.Relu, Conv2DForwardPath.Winograd, Conv2DDataPath.None, Conv2DWeightPath.SparseLists },
        // No pool: dense gradients.
        { "9x11x8→16 k5 same", true, 3, Epilogue.Relu, Conv2DForwardPath.Winograd, Conv2DDataPath.Winograd, Conv2DWeightPath.Winograd },
        // 3×3 from 16 channels on a 14×14 image: F(6×6, 3×3) forward and for dz, alone or through a 2×2 pool.
        { "14x14x16→16 k3 same", true, 2, Epilogue.Relu, Conv2DForwardPath.Winograd, Conv2DDataPath.Winograd, Conv2DWeightPath.Winograd },
        { "14x14x16→16 k3 same + pool 2", true, 2, Epilogue.Relu, Conv2DForwardPath.Winograd, Conv2DDataPath.WinogradThroughPool, Conv2DWeightPath.SparseLists },
        // Too few channels for the 3×3 transforms to pay: the transposed implicit GEMM.
        { "14x14x8→8 k3 same", true, 2, Epilogue.Relu, Conv2DForwardPath.ImplicitGemm, Conv2DDataPath.TransposedGemm, Conv2DWeightPath.ImplicitGemm },
        { "9x11x8→16 k5 same", false, 1, Epilogue.Sigmoid, Conv2DForwardPath.Winograd, Conv2DDataPath.None, Conv2DWeightPath.Winograd },
        { "11x7x11→6 k3 s2 same", true, 2, Epilogue.Tanh, Conv2DForwardPath.ImplicitGemm, Conv2DDataPath.Col2Im, Conv2DWeightPath.ImplicitGemm },
        // Fewer than 8 input channels, 3×3 or 5×5: the direct weight gradient (17 filters: a last vector of one lane;
        // 6: a single partial vector, and the forward's and dz's narrow tiles; batches not a multiple of its groups).
        { "10x9x2→17 k3 valid", true, 4, Epilogue.Linear, Conv2DForwardPath.ImplicitGemm, Conv2DDataPath.TransposedGemm, Conv2DWeightPath.Direct },
        { "28x28x1→6 k5 same", false, 5, Epilogue.Tanh, Conv2DForwardPath.ImplicitGemm, Conv2DDataPath.None, Conv2DWeightPath.Direct },
        { "14x14x6→16 k5 valid", true, 7, Epilogue.Tanh, Conv2DForwardPath.ImplicitGemm, Conv2DDataPath.TransposedGemm, Conv2DWeightPath.Direct },
        { "9x9x3→16 k3 s2 same", true, 3, Epilogue.Relu, Conv2DForwardPath.ImplicitGemm, Conv2DDataPath.Col2Im, Conv2DWeightPath.Direct },
    };

    private static (ConvGeometry Conv, PoolGeometry? Pool) Geometry(string name) => name switch
    {
        "mnist conv1 + pool 2" => (Geometries.ConvSame(28, 28, 1, 16, 5, 1), Geometries.PoolSame(28, 28, 16, 2, 2)),
        "mnist conv2 + pool 2" => (Geometries.ConvSame(14, 14, 16, 32, 5, 1), Geometries.PoolSame(14, 14, 32, 2, 2)),
        "13x11x3→5 k5 + same pool 2" => (Geometries.ConvSame(13, 11, 3, 5, 5, 1), Geometries.PoolSame(13, 11, 5, 2, 2)),
        "9x9x8→16 k5 + same pool 3" => (Geometries.ConvSame(9, 9, 8, 16, 5, 1), Geometries.PoolSame(9, 9, 16, 3, 3)),
        "9x9x8→16 k5 + overlapping pool 3 s2" => (Geometries.ConvSame(9, 9, 8, 16, 5, 1), Geometries.PoolValid(9, 9, 16, 3, 2)),
        "9x11x8→16 k5 same" => (Geometries.ConvSame(9, 11, 8, 16, 5, 1), null),
        "14x14x16→16 k3 same" => (Geometries.ConvSame(14, 14, 16, 16, 3, 1), null),
        "14x14x16→16 k3 same + pool 2" => (Geometries.ConvSame(14, 14, 16, 16, 3, 1), Geometries.PoolSame(14, 14, 16, 2, 2)),
        "14x14x8→8 k3 same" => (Geometries.ConvSame(14, 14, 8, 8, 3, 1), null),
        "11x7x11→6 k3 s2 same" => (Geometries.ConvSame(11, 7, 11, 6, 3, 2), null),
        "10x9x2→17 k3 valid" => (Geometries.ConvValid(10, 9, 2, 17, 3, 1), null),
        "28x28x1→6 k5 same" => (Geometries.ConvSame(28, 28, 1, 6, 5, 1), null),
        "14x14x6→16 k5 valid" => (Geometries.ConvValid(14, 14, 6, 16, 5, 1), null),
        "9x9x3→16 k3 s2 same" => (Geometries.ConvSame(9, 9, 3, 16, 3, 2), null),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Chooses_the_path_for_the_geometry_pool_and_batch(string name, bool dataGradient, int batch, Epilogue act, Conv2DForwardPath forward, Conv2DDataPath data, Conv2DWeightPath weights)
    {
        var (g, pool) = Geometry(name);
        var plan = new Conv2DPlan(g, pool, act, batch, dataGradient);

        Assert.Equal((forward, data, weights), (plan.ForwardPath, plan.DataPath, plan.WeightPath));
        Assert.Equal(new Conv2DPaths(forward, data, weights), Conv2DPlan.Choose(g, pool, dataGradient, batch));
        Assert.Equal(pool is { } p && p.Stride == p.Pool, plan.PoolsInForward);
        var line = plan.Describe();
        Assert.Contains($"forward {forward}, data gradient {data}, weight gradient {weights}, scratch {plan.ScratchSize} floats", line);
    }

    [Fact]
    public void Without_Winograd_the_same_geometries_take_the_implicit_gemm_and_the_sparse_gather()
    {
        var (g, pool) = Geometry("mnist conv2 + pool 2");
        Conv2D.NoWinograd = true;
        try
        {
            Assert.Equal(new Conv2DPaths(Conv2DForwardPath.ImplicitGemm, Conv2DDataPath.SparseGather, Conv2DWeightPath.SparseLists), Conv2DPlan.Choose(g, pool, dataGradient: true, 128));
        }
        finally
        {
            Conv2D.NoWinograd = false;
        }
    }

    /// <summary>
    /// Every pass of the plan, run on scratch of exactly <see cref="Conv2DPlan.ScratchSize"/> floats followed by a
    /// guard that must come back untouched, against the float64 oracle; the plan is made for a larger batch than it
    /// runs, as an epoch's last batch is.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_pass_stays_in_its_scratch_and_matches_the_oracle(string name, bool dataGradient, int batch, Epilogue act, Conv2DForwardPath forward, Conv2DDataPath data, Conv2DWeightPath weights)
    {
        _ = (forward, data, weights);
        var (g, pool) = Geometry(name);
        var plan = new Conv2DPlan(g, pool, act, batch + 1, dataGradient);
        var x = TestData.Random(batch * g.InSize, seed: 41);
        var w = TestData.Random(g.PatchSize * g.OutC, seed: 42, scale: 0.3f);
        var bias = TestData.Random(g.OutC, seed: 43, scale: 0.1f);
        var buffer = Enumerable.Repeat(Sentinel, plan.ScratchSize + Guard).ToArray();
        var scratch = buffer.AsSpan(0, plan.ScratchSize);

        var reference = Conv2DReference.Forward(TestData.ToDouble(x), TestData.ToDouble(w), TestData.ToDouble(bias), batch, g, act);
        var dw = TestData.Poisoned(w.Length);
        var db = TestData.Poisoned(g.OutC);
        var dx = dataGradient ? TestData.Poisoned(batch * g.InSize) : [];
        double[] dz;
        if (pool is { } p)
        {
            var (pooledRef, _) = MaxPool2DReference.Forward(reference, batch, p);
            float[] y;
            int[] argmax;
            if (plan.PoolsInForward)
            {
                y = TestData.Poisoned(batch * p.OutSize);
                argmax = new int[y.Length];
                plan.ForwardPooled(x, w, bias, y, argmax, batch, scratch);
            }
            else
            {
                var conv = TestData.Poisoned(batch * g.OutSize);
                plan.Forward(x, w, bias, conv, batch, scratch);
                Approx.Equal(reference, conv, $"{name} convolution", Approx.LongAtol, Approx.LongRtol);
                y = TestData.Poisoned(batch * p.OutSize);
                argmax = new int[y.Length];
                MaxPool2D.Forward(conv, y, argmax, batch, p);
            }
            Approx.Equal(pooledRef, y, $"{name} pooled", Approx.LongAtol, Approx.LongRtol);
            AssertGuard(buffer, plan.ScratchSize, $"{name} forward");

            // The gradient the pool sends down, dense, from the kernel's own argmax (ties are the kernel's to break).
            var dy = TestData.Random(y.Length, seed: 44);
            dz = new double[batch * g.OutSize];
            for (var i = 0; i < dy.Length; i++)
            {
                if (argmax[i] >= 0)
                {
                    dz[i / p.OutSize * g.OutSize + argmax[i]] += ActivationReference.GradientFromOutput(y[i], dy[i], act);
                }
            }
            plan.BackwardThroughPool(x, dy, y, argmax, w, dw, db, dx, batch, scratch);
        }
        else
        {
            var y = TestData.Poisoned(batch * g.OutSize);
            plan.Forward(x, w, bias, y, batch, scratch);
            Approx.Equal(reference, y, $"{name} y", Approx.LongAtol, Approx.LongRtol);
            AssertGuard(buffer, plan.ScratchSize, $"{name} forward");

            var dzf = TestData.Random(y.Length, seed: 45);
            dz = TestData.ToDouble(dzf);
            plan.Backward(x, dzf, w, dw, db, dx, batch, scratch);
        }
        AssertGuard(buffer, plan.ScratchSize, $"{name} backward");

        var (dwRef, dbRef) = Conv2DReference.BackwardWeights(TestData.ToDouble(x), dz, batch, g);
        Approx.Equal(dwRef, dw, $"{name} dw", Approx.LongAtol, Approx.LongRtol);
        Approx.Equal(dbRef, db, $"{name} db", Approx.LongAtol, Approx.LongRtol);
        if (dataGradient)
        {
            // Winograd's dx is within about 1e-5 of the largest element, not of each.
            Approx.Equal(Conv2DReference.BackwardData(dz, TestData.ToDouble(w), batch, g), dx, $"{name} dx", atol: 1e-4, rtol: 1e-4);
        }
    }

    /// <summary>A convolution without a bias passes no bias gradient: dw and dx are the bits of a call that asks for it.</summary>
    [Theory]
    [InlineData("14x14x16→16 k3 same")]
    [InlineData("10x9x2→17 k3 valid")]
    public void Without_a_bias_gradient_the_other_gradients_keep_their_bits(string name)
    {
        var (g, _) = Geometry(name);
        const int batch = 3;
        var plan = new Conv2DPlan(g, null, Epilogue.Linear, batch);
        var x = TestData.Random(batch * g.InSize, seed: 51);
        var w = TestData.Random(g.PatchSize * g.OutC, seed: 52, scale: 0.3f);
        var dz = TestData.Random(batch * g.OutSize, seed: 53);
        var scratch = new float[plan.ScratchSize];
        var (dw, db, dx) = (TestData.Poisoned(w.Length), TestData.Poisoned(g.OutC), TestData.Poisoned(batch * g.InSize));
        plan.Backward(x, dz, w, dw, db, dx, batch, scratch);
        var (dwAlone, dxAlone) = (TestData.Poisoned(w.Length), TestData.Poisoned(batch * g.InSize));
        plan.Backward(x, dz, w, dwAlone, default, dxAlone, batch, scratch);
        Assert.Equal(dw, dwAlone);
        Assert.Equal(dx, dxAlone);
        Assert.DoesNotContain(db, float.IsNaN);
    }

    [Fact]
    public void Calls_that_do_not_fit_the_plan_are_refused()
    {
        var (g, pool) = Geometry("mnist conv2 + pool 2");
        var fused = new Conv2DPlan(g, pool, Epilogue.Relu, 2);
        var scratch = new float[fused.ScratchSize];
        var x = new float[2 * g.InSize];
        var w = new float[g.PatchSize * g.OutC];
        var bias = new float[g.OutC];

        Assert.Throws<InvalidOperationException>(() => fused.Forward(x, w, bias, new float[2 * g.OutSize], 2, scratch));
        Assert.Throws<InvalidOperationException>(() => fused.Backward(x, new float[2 * g.OutSize], w, new float[w.Length], new float[g.OutC], new float[x.Length], 2, scratch));
        var tooMany = Assert.Throws<ArgumentOutOfRangeException>(() => fused.ForwardPooled(new float[3 * g.InSize], w, bias, new float[3 * pool!.Value.OutSize], default, 3, new float[fused.ScratchSize * 2]));
        Assert.Contains("up to 2 samples", tooMany.Message);
        var small = Assert.Throws<ArgumentException>(() => fused.ForwardPooled(x, w, bias, new float[2 * pool!.Value.OutSize], default, 2, scratch.AsSpan(1)));
        Assert.Equal("scratch", small.ParamName);
        // dx must be empty exactly when the plan has no data gradient.
        var noData = new Conv2DPlan(g, pool, Epilogue.Relu, 2, dataGradient: false);
        var p = pool!.Value;
        Assert.Throws<ArgumentException>(() => noData.BackwardThroughPool(x, new float[2 * p.OutSize], new float[2 * p.OutSize], new int[2 * p.OutSize], w, new float[w.Length], new float[g.OutC], new float[x.Length], 2, new float[noData.ScratchSize]));
        // A pool reads only the output: GELU's derivative cannot be taken there.
        var gelu = Assert.Throws<ArgumentException>(() => new Conv2DPlan(g, pool, Epilogue.Gelu, 2));
        Assert.Equal("activation", gelu.ParamName);
        var wrongPool = Assert.Throws<ArgumentException>(() => new Conv2DPlan(g, Geometries.PoolSame(28, 28, 16, 2, 2), Epilogue.Relu, 2));
        Assert.Equal("pool", wrongPool.ParamName);
    }

    private static void AssertGuard(float[] buffer, int size, string what)
    {
        for (var i = size; i < buffer.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(buffer[i]) != BitConverter.SingleToInt32Bits(Sentinel))
            {
                Assert.Fail($"{what}: wrote scratch[{i}], past the plan's {size} floats.");
            }
        }
    }
}
