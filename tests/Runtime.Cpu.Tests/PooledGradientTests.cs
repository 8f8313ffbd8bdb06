namespace Kiln.Runtime.Cpu.Tests;

/// <summary>
/// The fused pool-to-convolution backward: the sparse gradient must be the dense one (pool backward, then activation
/// backward), and the sparse convolution passes must match the float64 reference on it.
/// </summary>
[Collection(nameof(ThreadingTests))]
public class PooledGradientTests
{
    public static TheoryData<string, int, Epilogue> Cases() => new()
    {
        { "mnist conv1 + pool 2", 3, Epilogue.Relu },
        { "mnist conv2 + pool 2", 1, Epilogue.Relu },
        { "mnist conv2 + pool 2", 129, Epilogue.Relu },
        { "13x11x3→5 k5 + odd same pool 2", 3, Epilogue.Tanh },
        { "11x7x11→6 k3 s2 + pool 2", 2, Epilogue.Sigmoid },
        { "9x9x19→9 k3 + overlapping pool 3 s2", 2, Epilogue.Linear },
        { "10x9x2→17 k3 valid + pool 2", 2, Epilogue.Relu },
        { "10x9x2→8 k3 + odd same pool 2", 5, Epilogue.Relu },
        { "5x5x8→8 k5 + odd same pool 2", 5, Epilogue.Tanh },
        { "6x7x32→8 k3 + pool 2", 3, Epilogue.Relu },
        { "12x11x8→16 k5 valid + odd pool 2", 3, Epilogue.Sigmoid },
        { "3x1x8→8 k5 + odd same pool 2", 4, Epilogue.Relu },
        { "mnist conv2 + pool 2", 3, Epilogue.LeakyRelu },
        { "mnist conv1 + pool 2", 2, Epilogue.Elu },
        { "13x11x3→5 k5 + odd same pool 2", 3, Epilogue.Softplus },
        { "6x7x32→8 k3 + pool 2", 3, Epilogue.Elu },
        { "12x11x8→16 k5 valid + odd pool 2", 3, Epilogue.LeakyRelu },
        { "15x14x16→24 k3 valid + odd pool 2", 3, Epilogue.Relu },
        { "15x14x16→24 k3 valid + odd pool 2", 1, Epilogue.Tanh },
        { "15x13x16→16 k3 + odd same pool 2", 3, Epilogue.Relu },
        { "15x13x16→16 k3 + odd same pool 2", 1, Epilogue.Elu },
        { "11x9x16→16 k3 + odd same pool 2", 3, Epilogue.Relu },
    };

    // The geometries whose data gradient runs as Winograd (5×5, or 3×3 with 16 channels or more; stride 1, channels in
    // whole vectors, 2×2 windows).
    private static readonly string[] Winograd = ["mnist conv2 + pool 2", "5x5x8→8 k5 + odd same pool 2", "12x11x8→16 k5 valid + odd pool 2", "3x1x8→8 k5 + odd same pool 2", "15x14x16→24 k3 valid + odd pool 2", "15x13x16→16 k3 + odd same pool 2", "11x9x16→16 k3 + odd same pool 2"];

    private static (ConvGeometry Conv, PoolGeometry Pool) Geometry(string name) => name switch
    {
        "mnist conv1 + pool 2" => (Geometries.ConvSame(28, 28, 1, 16, 5, 1), Geometries.PoolSame(28, 28, 16, 2, 2)),
        "mnist conv2 + pool 2" => (Geometries.ConvSame(14, 14, 16, 32, 5, 1), Geometries.PoolSame(14, 14, 32, 2, 2)),
        "13x11x3→5 k5 + odd same pool 2" => (Geometries.ConvSame(13, 11, 3, 5, 5, 1), Geometries.PoolSame(13, 11, 5, 2, 2)),
        "11x7x11→6 k3 s2 + pool 2" => (Geometries.ConvSame(11, 7, 11, 6, 3, 2), Geometries.PoolValid(6, 4, 6, 2, 2)),
        "9x9x19→9 k3 + overlapping pool 3 s2" => (Geometries.ConvSame(9, 9, 19, 9, 3, 1), Geometries.PoolValid(9, 9, 9, 3, 2)),
        "10x9x2→17 k3 valid + pool 2" => (Geometries.ConvValid(10, 9, 2, 17, 3, 1), Geometries.PoolValid(8, 7, 17, 2, 2)),
        "10x9x2→8 k3 + odd same pool 2" => (Geometries.ConvSame(10, 9, 2, 8, 3, 1), Geometries.PoolSame(10, 9, 8, 2, 2)),
        "5x5x8→8 k5 + odd same pool 2" => (Geometries.ConvSame(5, 5, 8, 8, 5, 1), Geometries.PoolSame(5, 5, 8, 2, 2)),
        // Kernel rows of 96 floats, twelve vectors: the weight gradient's widest one-pass-per-row case (conv2's are ten, 9x9x19's eight).
        "6x7x32→8 k3 + pool 2" => (Geometries.ConvSame(6, 7, 32, 8, 3, 1), Geometries.PoolSame(6, 7, 8, 2, 2)),
        // Transposed padding 4; a last output row and column that no window reads.
        "12x11x8→16 k5 valid + odd pool 2" => (Geometries.ConvValid(12, 11, 8, 16, 5, 1), Geometries.PoolValid(8, 7, 16, 2, 2)),
        // One column: the cell right of a window's only column is the next row's first pixel in argmax's numbering.
        "3x1x8→8 k5 + odd same pool 2" => (Geometries.ConvSame(3, 1, 8, 8, 5, 1), Geometries.PoolSame(3, 1, 8, 2, 2)),
        // F(6×6, 3×3) on dz, transposed padding 2; the output's last row and column no window reads.
        "15x14x16→24 k3 valid + odd pool 2" => (Geometries.ConvValid(15, 14, 16, 24, 3, 1), Geometries.PoolValid(13, 12, 24, 2, 2)),
        // Same padding: transposed padding 1, tiles that start on odd rows and columns cut the pool windows at their edges.
        "15x13x16→16 k3 + odd same pool 2" => (Geometries.ConvSame(15, 13, 16, 16, 3, 1), Geometries.PoolSame(15, 13, 16, 2, 2)),
        // Odd sizes again, two tiles each way: cut windows with their right or lower pixels past the input.
        "11x9x16→16 k3 + odd same pool 2" => (Geometries.ConvSame(11, 9, 16, 16, 3, 1), Geometries.PoolSame(11, 9, 16, 2, 2)),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void SparseBackward_MatchesDenseAndReference(string name, int batch, Epilogue act)
    {
        var (g, pg) = Geometry(name);
        var (x, w, y, pooled, argmax, dy) = Forward(g, pg, batch, act);
        var dz = new PooledGradient(batch + 2, pg);
        MaxPool2D.BackwardToConvolution(dy, pooled, argmax, act, dz, batch, pg);

        // The dense path: scatter to the argmax, then the activation's derivative from the convolution's output.
        var expected = TestData.Poisoned(batch * g.OutSize);
        MaxPool2D.Backward(dy, argmax, expected, batch, pg);
        Activations.Backward(y, expected, act);
        var dense = TestData.Poisoned(expected.Length);
        dz.CopyTo(dense);
        if (pg.Stride >= pg.Pool)
        {
            TestData.BitwiseEqual(expected, dense, $"{name} dz");
        }
        else
        {
            Approx.Equal(TestData.ToDouble(expected), dense, $"{name} dz");
        }

        var scratch = TestData.Poisoned(Conv2D.ScratchSize(batch, g));
        var dzd = TestData.ToDouble(dense);
        var (dwRef, dbRef) = Conv2DReference.BackwardWeights(TestData.ToDouble(x), dzd, batch, g);
        var dw = TestData.Poisoned(w.Length);
        var db = TestData.Poisoned(g.OutC);
        Conv2D.BackwardWeights(x, dz, dw, db, batch, g, scratch);
        Approx.Equal(dwRef, dw, $"{name} dw", Approx.LongAtol, Approx.LongRtol);
        Approx.Equal(dbRef, db, $"{name} db", Approx.LongAtol, Approx.LongRtol);

        var dx = TestData.Poisoned(batch * g.InSize);
        Conv2D.BackwardData(dz, w, dx, batch, g, scratch);
        Approx.Equal(Conv2DReference.BackwardData(dzd, TestData.ToDouble(w), batch, g), dx, $"{name} dx");
    }

    /// <summary>The weight gradient read straight through the pool is the fill then the sparse pass, bit for bit, on one thread and on all.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void ThroughPool_EqualsFillThenSparse_Bitwise(string name, int batch, Epilogue act)
    {
        var (g, pg) = Geometry(name);
        if (pg.Stride != pg.Pool)
        {
            // Overlapping windows have no fused path; the argument check is tested below.
            var e = Assert.Throws<ArgumentException>(() => Conv2D.BackwardWeightsThroughPool(new float[g.InSize], new float[pg.OutSize], new float[pg.OutSize], new int[pg.OutSize], act, new float[g.PatchSize * g.OutC], new float[g.OutC], 1, g, pg, new float[Conv2D.ScratchSize(1, g)]));
            Assert.Equal("pool", e.ParamName);
            return;
        }
        var (x, w, _, pooled, argmax, dy) = Forward(g, pg, batch, act);
        var scratch = TestData.Poisoned(Conv2D.ScratchSize(batch, g));
        var dz = new PooledGradient(batch, pg);
        MaxPool2D.BackwardToConvolution(dy, pooled, argmax, act, dz, batch, pg);
        var expectedW = TestData.Poisoned(w.Length);
        var expectedB = TestData.Poisoned(g.OutC);
        Conv2D.BackwardWeights(x, dz, expectedW, expectedB, batch, g, scratch);
        foreach (var serial in new[] { true, false })
        {
            Workers.Serial = serial;
            try
            {
                var dw = TestData.Poisoned(w.Length);
                var db = TestData.Poisoned(g.OutC);
                Conv2D.BackwardWeightsThroughPool(x, dy, pooled, argmax, act, dw, db, batch, g, pg, scratch);
                TestData.BitwiseEqual(expectedW, dw, $"{name} dw (serial {serial})");
                TestData.BitwiseEqual(expectedB, db, $"{name} db (serial {serial})");
            }
            finally
            {
                Workers.Serial = false;
            }
        }
    }

    /// <summary>
    /// The data gradient read straight from the pool matches the float64 reference: as Winograd where it serves, giving
    /// the same bits on one thread and on all; as the sparse gather otherwise (and under NoWinograd), bit for bit the
    /// fill then <see cref="Conv2D.BackwardData(PooledGradient, ReadOnlySpan{float}, Span{float}, int, in ConvGeometry, Span{float})"/>.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void DataThroughPool_MatchesReference_AndTheListsWhereSparse(string name, int batch, Epilogue act)
    {
        var (g, pg) = Geometry(name);
        if (pg.Stride != pg.Pool)
        {
            var e = Assert.Throws<ArgumentException>(() => Conv2D.BackwardDataThroughPool(new float[pg.OutSize], new float[pg.OutSize], new int[pg.OutSize], act, new float[g.PatchSize * g.OutC], new float[g.InSize], 1, g, pg, new float[Conv2D.ScratchSize(1, g)]));
            Assert.Equal("pool", e.ParamName);
            return;
        }
        var (_, w, _, pooled, argmax, dy) = Forward(g, pg, batch, act);
        var dz = new PooledGradient(batch, pg);
        MaxPool2D.BackwardToConvolution(dy, pooled, argmax, act, dz, batch, pg);
        var dense = new float[batch * g.OutSize];
        dz.CopyTo(dense);
        var reference = Conv2DReference.BackwardData(TestData.ToDouble(dense), TestData.ToDouble(w), batch, g);
        var scratch = TestData.Poisoned(Conv2D.ScratchSize(batch, g, pg));
        var sparse = TestData.Poisoned(batch * g.InSize);
        Conv2D.BackwardData(dz, w, sparse, batch, g, scratch);
        float[]? winograd = null;
        foreach (var (noWinograd, serial) in new[] { (false, true), (false, false), (true, true), (true, false) })
        {
            (Conv2D.NoWinograd, Workers.Serial) = (noWinograd, serial);
            try
            {
                var dx = TestData.Poisoned(batch * g.InSize);
                Conv2D.BackwardDataThroughPool(dy, pooled, argmax, act, w, dx, batch, g, pg, scratch);
                var what = $"{name} dx (NoWinograd {noWinograd}, serial {serial})";
                if (noWinograd || !Winograd.Contains(name))
                {
                    TestData.BitwiseEqual(sparse, dx, what);
                    Approx.Equal(reference, dx, what);
                    continue;
                }
                // Up to 25·OutC terms, and the transforms' roundings of values up to 5× the inputs.
                Approx.Equal(reference, dx, what, atol: 1e-4, rtol: 1e-4);
                if (winograd is null)
                {
                    // Other roundings than the gather's: the Winograd path did run.
                    Assert.False(sparse.AsSpan().SequenceEqual(dx), $"{what}: bitwise the sparse gather's");
                    winograd = dx;
                }
                else
                {
                    TestData.BitwiseEqual(winograd, dx, what);
                }
            }
            finally
            {
                (Conv2D.NoWinograd, Workers.Serial) = (false, false);
            }
        }
    }

    [Theory]
    [InlineData("mnist conv1 + pool 2", 129)]
    [InlineData("mnist conv2 + pool 2", 129)]
    public void MultiThreaded_EqualsSingleThreaded(string name, int batch)
    {
        var (g, pg) = Geometry(name);
        var (x, w, _, pooled, argmax, dy) = Forward(g, pg, batch, Epilogue.Relu);
        var scratch = new float[Conv2D.ScratchSize(batch, g)];
        float[] Run(bool serial)
        {
            Workers.Serial = serial;
            try
            {
                var dz = new PooledGradient(batch, pg);
                MaxPool2D.BackwardToConvolution(dy, pooled, argmax, Epilogue.Relu, dz, batch, pg);
                var dense = new float[batch * g.OutSize];
                dz.CopyTo(dense);
                var dw = new float[w.Length];
                var db = new float[g.OutC];
                var dx = new float[batch * g.InSize];
                Conv2D.BackwardWeights(x, dz, dw, db, batch, g, scratch);
                Conv2D.BackwardData(dz, w, dx, batch, g, scratch);
                return [.. dense, .. dw, .. db, .. dx];
            }
            finally
            {
                Workers.Serial = false;
            }
        }
        var expected = Run(serial: true);
        for (var i = 0; i < 3; i++)
        {
            TestData.BitwiseEqual(expected, Run(serial: false), $"{name} run {i}");
        }
    }

    [Fact]
    public void MismatchedGradient_IsRejectedByName()
    {
        var (g, pg) = Geometry("mnist conv2 + pool 2");
        var dz = new PooledGradient(4, pg);
        var scratch = new float[Conv2D.ScratchSize(4, g)];
        var pooled = new float[3 * pg.OutSize];
        MaxPool2D.BackwardToConvolution(pooled, pooled, new int[pooled.Length], Epilogue.Relu, dz, 3, pg);
        var e = Assert.Throws<ArgumentException>(() => Conv2D.BackwardWeights(new float[4 * g.InSize], dz, new float[g.PatchSize * g.OutC], new float[g.OutC], 4, g, scratch));
        Assert.Equal("dz", e.ParamName);
        Assert.Contains("holds 3 samples", e.Message);
        e = Assert.Throws<ArgumentException>(() => MaxPool2D.BackwardToConvolution(new float[5 * pg.OutSize], new float[5 * pg.OutSize], new int[5 * pg.OutSize], Epilogue.Relu, dz, 5, pg));
        Assert.Equal("dz", e.ParamName);
    }

    [Fact]
    public void DataThroughPool_RejectsWrongArgumentsByName()
    {
        var (g, pg) = Geometry("mnist conv2 + pool 2");
        const int batch = 2;
        var (dy, pooled, argmax) = (new float[batch * pg.OutSize], new float[batch * pg.OutSize], new int[batch * pg.OutSize]);
        var (w, dx) = (new float[g.PatchSize * g.OutC], new float[batch * g.InSize]);
        var scratch = new float[Conv2D.ScratchSize(batch, g, pg)];
        void Expect(string name, Action call) => Assert.Equal(name, Assert.Throws<ArgumentException>(call).ParamName);

        Expect("dy", () => Conv2D.BackwardDataThroughPool(dy.AsSpan(1), pooled, argmax, Epilogue.Relu, w, dx, batch, g, pg, scratch));
        Expect("y", () => Conv2D.BackwardDataThroughPool(dy, pooled.AsSpan(1), argmax, Epilogue.Relu, w, dx, batch, g, pg, scratch));
        Expect("argmax", () => Conv2D.BackwardDataThroughPool(dy, pooled, argmax.AsSpan(1), Epilogue.Relu, w, dx, batch, g, pg, scratch));
        Expect("dx", () => Conv2D.BackwardDataThroughPool(dy, pooled, argmax, Epilogue.Relu, w, dx.AsSpan(1), batch, g, pg, scratch));
        Expect("scratch", () => Conv2D.BackwardDataThroughPool(dy, pooled, argmax, Epilogue.Relu, w, dx, batch, g, pg, new float[Conv2D.ScratchSize(batch, g, pg) - 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Conv2D.BackwardDataThroughPool(dy, pooled, argmax, (Epilogue)99, w, dx, batch, g, pg, scratch));
    }

    [Theory]
    [InlineData(Epilogue.Gelu)]
    [InlineData(Epilogue.Swish)]
    public void ThroughPool_RefusesActivationsWhoseDerivativeNeedsTheInput(Epilogue act)
    {
        // The fused paths keep only the pool's output; the generator runs these activations as a separate step.
        var (g, pg) = Geometry("mnist conv1 + pool 2");
        var (x, w, _, pooled, argmax, dy) = Forward(g, pg, 1, Epilogue.Relu);
        var scratch = new float[Conv2D.ScratchSize(1, g, pg)];
        Assert.Throws<ArgumentException>(() => MaxPool2D.BackwardToConvolution(dy, pooled, argmax, act, new PooledGradient(1, pg), 1, pg));
        Assert.Throws<ArgumentException>(() => Conv2D.BackwardWeightsThroughPool(x, dy, pooled, argmax, act, new float[w.Length], new float[g.OutC], 1, g, pg, scratch));
        var e = Assert.Throws<ArgumentException>(() => Conv2D.BackwardDataThroughPool(dy, pooled, argmax, act, w, new float[g.InSize], 1, g, pg, scratch));
        Assert.Equal("act", e.ParamName);
    }

    [Fact]
    public void MoreWindowsThanPixels_IsRejectedByName()
    {
        // A hand-made pool whose padding gives 3×3 windows over 2×2 pixels: not a Keras pool, and not supported.
        var g = Geometries.ConvSame(2, 2, 8, 8, 3, 1);
        var pg = new PoolGeometry(2, 2, 8, 3, 3, 2, 1, 1, 1);
        var pooled = new float[pg.OutSize];
        var dz = new PooledGradient(1, pg);
        MaxPool2D.BackwardToConvolution(pooled, pooled, new int[pooled.Length], Epilogue.Relu, dz, 1, pg);
        var e = Assert.Throws<ArgumentException>(() => Conv2D.BackwardData(dz, new float[g.PatchSize * g.OutC], new float[g.InSize], 1, g, new float[Conv2D.ScratchSize(1, g)]));
        Assert.Equal("dz", e.ParamName);
        Assert.Contains("9 windows per channel, more than the 4 pixels", e.Message);
    }

    // A real forward pass, so argmax and the ReLU zeros are what training sees; every fifth dy is exactly zero.
    private static (float[] X, float[] W, float[] Y, float[] Pooled, int[] Argmax, float[] Dy) Forward(ConvGeometry g, PoolGeometry pg, int batch, Epilogue act)
    {
        var x = TestData.Random(batch * g.InSize, seed: 21);
        var w = TestData.Random(g.PatchSize * g.OutC, seed: 22, scale: 0.3f);
        var bias = TestData.Random(g.OutC, seed: 23, scale: 0.1f);
        var y = new float[batch * g.OutSize];
        Conv2D.Forward(x, w, bias, y, batch, g, act, new float[Conv2D.ScratchSize(batch, g)]);
        var pooled = new float[batch * pg.OutSize];
        var argmax = new int[pooled.Length];
        MaxPool2D.Forward(y, pooled, argmax, batch, pg);
        var dy = TestData.Random(pooled.Length, seed: 24);
        for (var i = 0; i < dy.Length; i += 5)
        {
            dy[i] = 0f;
        }
        return (x, w, y, pooled, argmax, dy);
    }
}
