namespace Kiln.Runtime.Cpu.Tests;

public class BatchNormTests
{
    private const float Epsilon = 1e-3f;

    // (rows, channels, scale, center): rows = batch·H·W for images (3·5·7, 1·3·3, 2·4·3, 3·17·13: two chunks of rows),
    // a batch of 1 row, a Dense batch of 3; channels mostly not a multiple of the 4-lane vector.
    public static TheoryData<int, int, bool, bool> Shapes() => new()
    {
        { 3 * 5 * 7, 13, true, true },
        { 1 * 3 * 3, 70, true, true },
        { 3, 5, true, false },
        { 3, 5, false, true },
        { 17, 64, false, false },
        { 1, 9, true, true },
        { 2 * 4 * 3, 129, true, true },
        { 3 * 17 * 13, 6, true, true },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardTraining_MatchesReference_AndUpdatesMovingStatistics(int rows, int channels, bool scale, bool center)
    {
        var (x, gamma, beta) = Inputs(rows, channels, scale, center);
        var movingMean = TestData.Random(channels, seed: 4);
        var movingVariance = TestData.Random(channels, seed: 5).Select(MathF.Abs).ToArray();
        var (mm0, mv0) = (TestData.ToDouble(movingMean), TestData.ToDouble(movingVariance));
        var y = TestData.Poisoned(x.Length);
        var (mean, invStd) = (TestData.Poisoned(channels), TestData.Poisoned(channels));
        BatchNorm.ForwardTraining(x, gamma, beta, y, mean, invStd, movingMean, movingVariance, rows, channels, 0.9f, Epsilon);

        var (ry, rmean, rvar) = BatchNormReference.ForwardTraining(TestData.ToDouble(x), Optional(gamma), Optional(beta), rows, channels, Epsilon);
        var what = $"{rows}×{channels} scale {scale} center {center}";
        Approx.Equal(ry, y, $"y {what}");
        Approx.Equal(rmean, mean, $"batch mean {what}");
        Approx.Equal(rvar.Select(v => 1 / Math.Sqrt(v + Epsilon)).ToArray(), invStd, $"batch 1/σ {what}");
        Approx.Equal(BatchNormReference.Moving(mm0, rmean, 0.9), movingMean, $"moving mean {what}");
        Approx.Equal(BatchNormReference.Moving(mv0, rvar, 0.9), movingVariance, $"moving variance {what}");
    }

    [Fact]
    public void ForwardTraining_LargeMeanSmallSpread_KeepsTheVariance()
    {
        // 3000 + noise of 0.01 (two chunks of rows): Σx²/n − mean² cancels about 12 of double's 16 digits, so that
        // formula misses the variance by more than the tolerance (checked below); the moments about a pivot do not.
        const int rows = 3 * 17 * 13, channels = 13;
        const float epsilon = 1e-9f;
        var x = TestData.Random(rows * channels, seed: 11, scale: 0.01f).Select((v, i) => v + 3000f + i % channels).ToArray();
        var y = TestData.Poisoned(x.Length);
        var (mean, invStd) = (TestData.Poisoned(channels), TestData.Poisoned(channels));
        BatchNorm.ForwardTraining(x, default, default, y, mean, invStd, new float[channels], new float[channels], rows, channels, 0.99f, epsilon);

        var xd = TestData.ToDouble(x);
        var (_, rmean, rvar) = BatchNormReference.ForwardTraining(xd, null, null, rows, channels, epsilon);
        var naive = new double[channels];
        for (var c = 0; c < channels; c++)
        {
            var (sum, squares) = (0.0, 0.0);
            for (var r = 0; r < rows; r++)
            {
                sum += xd[r * channels + c];
                squares += xd[r * channels + c] * xd[r * channels + c];
            }
            naive[c] = squares / rows - sum / rows * (sum / rows);
        }
        Assert.Contains(naive.Select((v, c) => Math.Abs(v - rvar[c]) / rvar[c]), error => error > Approx.Rtol);
        Approx.Equal(rmean, mean, "batch mean", 0, 1e-7);
        Approx.Equal(rvar.Select(v => 1 / Math.Sqrt(v + epsilon)).ToArray(), invStd, "batch 1/σ", 0, 1e-5);
        // y itself is not compared: Keras' form x·s + (β − mean·s) cancels in float at this ratio of mean to spread.
    }

    [Fact]
    public void MovingStatistics_FollowKerasUpdate_ByHand()
    {
        // Channel 0: x = 1, 3 → mean 2, biased variance 1. Channel 1: x = −2, −2 → mean −2, variance 0.
        // moving = moving·0.9 + batch·0.1: mean 0.5·0.9 + 2·0.1 = 0.65, −1·0.9 − 2·0.1 = −1.1;
        // variance 2·0.9 + 1·0.1 = 1.9, 1·0.9 + 0·0.1 = 0.9. y = (x − mean)/√(var + ε): ±1/√1.001 and 0.
        float[] x = [1f, -2f, 3f, -2f];
        float[] movingMean = [0.5f, -1f], movingVariance = [2f, 1f];
        var y = TestData.Poisoned(4);
        var (mean, invStd) = (TestData.Poisoned(2), TestData.Poisoned(2));
        BatchNorm.ForwardTraining(x, default, default, y, mean, invStd, movingMean, movingVariance, 2, 2, 0.9f, Epsilon);
        Approx.Equal([0.65, -1.1], movingMean, "moving mean", 1e-6, 1e-6);
        Approx.Equal([1.9, 0.9], movingVariance, "moving variance", 1e-6, 1e-6);
        Approx.Equal([2.0, -2.0], mean, "batch mean", 1e-6, 1e-6);
        var s = 1 / Math.Sqrt(1.001);
        Approx.Equal([-s, 0, s, 0], y, "y", 1e-6, 1e-6);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardInference_UsesMovingStatistics(int rows, int channels, bool scale, bool center)
    {
        var (x, gamma, beta) = Inputs(rows, channels, scale, center);
        var movingMean = TestData.Random(channels, seed: 6);
        var movingVariance = TestData.Random(channels, seed: 7).Select(MathF.Abs).ToArray();
        var y = TestData.Poisoned(x.Length);
        BatchNorm.ForwardInference(x, gamma, beta, movingMean, movingVariance, y, rows, channels, Epsilon);
        var expected = BatchNormReference.Normalize(TestData.ToDouble(x), Optional(gamma), Optional(beta), TestData.ToDouble(movingMean), TestData.ToDouble(movingVariance), rows, channels, Epsilon);
        Approx.Equal(expected, y, $"inference {rows}×{channels}");
    }

    [Theory]
    [InlineData(3 * 3 * 5, 11, true, true)]
    [InlineData(2, 3, true, true)]
    [InlineData(7, 66, false, true)]
    [InlineData(5, 4, true, false)]
    [InlineData(6, 3, false, false)]
    public void Backward_MatchesFiniteDifferences_ThroughBatchStatistics(int rows, int channels, bool scale, bool center)
    {
        // L = Σ r·y(x, γ, β) with y computed from the batch's own mean and variance: ∂L/∂x includes their dependence on x.
        var (x, gamma, beta) = Inputs(rows, channels, scale, center);
        var r = TestData.ToDouble(TestData.Random(x.Length, seed: 8));
        double[] xd = TestData.ToDouble(x);
        double[]? gd = Optional(gamma), bd = Optional(beta);
        double Loss(double[] xv, double[]? gv, double[]? bv) => TestData.Dot(r, BatchNormReference.ForwardTraining(xv, gv, bv, rows, channels, Epsilon).Y);

        var y = new float[x.Length];
        var (mean, invStd) = (new float[channels], new float[channels]);
        BatchNorm.ForwardTraining(x, gamma, beta, y, mean, invStd, new float[channels], new float[channels], rows, channels, 0.99f, Epsilon);
        var dy = r.Select(v => (float)v).ToArray();
        var dx = TestData.Poisoned(x.Length);
        var dgamma = scale ? TestData.Poisoned(channels) : [];
        var dbeta = center ? TestData.Poisoned(channels) : [];
        BatchNorm.Backward(x, dy, gamma, mean, invStd, dx, dgamma, dbeta, rows, channels);

        // Rows 1–2 make the normalized values large and their dependence on x steep: finite differences need a small step.
        Approx.Equal(FiniteDifference.Gradient(v => Loss(v, gd, bd), xd, h: 1e-5), dx, "dL/dx", Approx.FdAtol, Approx.FdRtol);
        if (scale)
        {
            Approx.Equal(FiniteDifference.Gradient(v => Loss(xd, v, bd), gd!), dgamma, "dL/dγ", Approx.FdAtol, Approx.FdRtol);
        }
        if (center)
        {
            Approx.Equal(FiniteDifference.Gradient(v => Loss(xd, gd, v), bd!), dbeta, "dL/dβ", Approx.FdAtol, Approx.FdRtol);
        }
    }

    [Fact]
    public void Backward_WithoutDx_WritesOnlyTheParameterGradients()
    {
        const int rows = 10, channels = 6;
        var (x, gamma, beta) = Inputs(rows, channels, true, true);
        var y = new float[x.Length];
        var (mean, invStd) = (new float[channels], new float[channels]);
        BatchNorm.ForwardTraining(x, gamma, beta, y, mean, invStd, new float[channels], new float[channels], rows, channels, 0.99f, Epsilon);
        var dy = TestData.Random(x.Length, seed: 9);
        var (dgamma, dbeta) = (TestData.Poisoned(channels), TestData.Poisoned(channels));
        var (dgammaFull, dbetaFull, dx) = (new float[channels], new float[channels], new float[x.Length]);
        BatchNorm.Backward(x, dy, gamma, mean, invStd, default, dgamma, dbeta, rows, channels);
        BatchNorm.Backward(x, dy, gamma, mean, invStd, dx, dgammaFull, dbetaFull, rows, channels);
        TestData.BitwiseEqual(dgammaFull, dgamma, "dγ");
        TestData.BitwiseEqual(dbetaFull, dbeta, "dβ");
    }

    [Fact]
    public void AnyThreadCount_SameBits()
    {
        // 2 000 rows: eight chunks of rows, so several parts when threads are allowed; 37 channels: a scalar tail.
        const int rows = 2000, channels = 37;
        var (x, gamma, beta) = Inputs(rows, channels, true, true);
        var dy = TestData.Random(x.Length, seed: 10);
        (float[] Y, float[] Mean, float[] InvStd, float[] Dx, float[] Dg, float[] Db) Run(bool serial)
        {
            Workers.Serial = serial;
            try
            {
                var (y, mean, invStd, dx, dg, db) = (new float[x.Length], new float[channels], new float[channels], new float[x.Length], new float[channels], new float[channels]);
                BatchNorm.ForwardTraining(x, gamma, beta, y, mean, invStd, new float[channels], new float[channels], rows, channels, 0.99f, Epsilon);
                BatchNorm.Backward(x, dy, gamma, mean, invStd, dx, dg, db, rows, channels);
                return (y, mean, invStd, dx, dg, db);
            }
            finally
            {
                Workers.Serial = false;
            }
        }
        var (a, b) = (Run(serial: true), Run(serial: false));
        TestData.BitwiseEqual(a.Y, b.Y, "y");
        TestData.BitwiseEqual(a.InvStd, b.InvStd, "1/σ");
        TestData.BitwiseEqual(a.Dx, b.Dx, "dx");
        TestData.BitwiseEqual(a.Dg, b.Dg, "dγ");
        TestData.BitwiseEqual(a.Db, b.Db, "dβ");
    }

    // The activations whose derivative is written from the output, with a standalone layer's parameter.
    public static TheoryData<Epilogue, float> FusedActivations() => new()
    {
        { Epilogue.Relu, 0f },
        { Epilogue.LeakyRelu, 0.1f },
        { Epilogue.Elu, 0.7f },
        { Epilogue.Sigmoid, 0f },
        { Epilogue.Tanh, 0f },
        { Epilogue.Softplus, 0f },
    };

    [Theory]
    [MemberData(nameof(FusedActivations))]
    public void FusedActivation_EqualsTheTwoLayersApart_Bitwise(Epilogue act, float alpha)
    {
        // 3·17·13 rows: two chunks of rows and a ragged block; 37 channels: a scalar tail.
        const int rows = 3 * 17 * 13, channels = 37;
        var (x, gamma, beta) = Inputs(rows, channels, true, true);
        var dy = TestData.Random(x.Length, seed: 10);

        var (z, mean, invStd) = (new float[x.Length], new float[channels], new float[channels]);
        BatchNorm.ForwardTraining(x, gamma, beta, z, mean, invStd, new float[channels], new float[channels], rows, channels, 0.99f, Epsilon);
        var y = new float[x.Length];
        Activations.Forward(z, y, act, alpha);
        var dz = new float[x.Length];
        Activations.Backward(z, y, dy, dz, act, alpha);
        var (dx, dg, db) = (new float[x.Length], new float[channels], new float[channels]);
        BatchNorm.Backward(x, dz, gamma, mean, invStd, dx, dg, db, rows, channels);

        var (fy, fmean, finvStd) = (TestData.Poisoned(x.Length), new float[channels], new float[channels]);
        BatchNorm.ForwardTraining(x, gamma, beta, fy, fmean, finvStd, new float[channels], new float[channels], rows, channels, 0.99f, Epsilon, act, alpha);
        var fdy = (float[])dy.Clone();
        var (fdx, fdg, fdb) = (TestData.Poisoned(x.Length), TestData.Poisoned(channels), TestData.Poisoned(channels));
        // ReLU and LeakyReLU take f′ from the sign of the normalised x: their backward is given no y.
        var output = act is Epilogue.Relu or Epilogue.LeakyRelu ? default : fy;
        BatchNorm.Backward(x, output, fdy, act, alpha, gamma, beta, fmean, finvStd, fdx, fdg, fdb, rows, channels);

        TestData.BitwiseEqual(y, fy, $"{act} y");
        TestData.BitwiseEqual(dy, fdy, $"{act} dy (not written)");
        TestData.BitwiseEqual(dx, fdx, $"{act} dx");
        TestData.BitwiseEqual(dg, fdg, $"{act} dγ");
        TestData.BitwiseEqual(db, fdb, $"{act} dβ");

        var iy = TestData.Poisoned(x.Length);
        BatchNorm.ForwardInference(x, gamma, beta, mean, invStd.Select(s => 1 / (s * s) - Epsilon).ToArray(), iy, rows, channels, Epsilon, act, alpha);
        var iz = new float[x.Length];
        BatchNorm.ForwardInference(x, gamma, beta, mean, invStd.Select(s => 1 / (s * s) - Epsilon).ToArray(), iz, rows, channels, Epsilon);
        Activations.Forward(iz, iz, act, alpha);
        TestData.BitwiseEqual(iz, iy, $"{act} inference y");
    }

    // 2×2 windows over an even and an odd image (the last row and column unread), 3×3 same windows with stride 2
    // (overlapping, padded), 2×2 same over an odd image (a cut last window); channels with and without a scalar tail.
    public static TheoryData<string, Epilogue, float> PoolCases() => new()
    {
        { "28x28x16 p2", Epilogue.Relu, 0f },
        { "7x7x19 p2", Epilogue.LeakyRelu, 0.1f },
        { "same 15x15x8 p3 s2", Epilogue.Relu, 0f },
        { "same 13x13x19 p2", Epilogue.Elu, 0.7f },
    };

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void Pooled_EqualsNormaliseActivateThenPool_Bitwise(string name, Epilogue act, float alpha)
    {
        const int batch = 3;
        var g = name switch
        {
            "28x28x16 p2" => Geometries.PoolValid(28, 28, 16, 2, 2),
            "7x7x19 p2" => Geometries.PoolValid(7, 7, 19, 2, 2),
            "same 15x15x8 p3 s2" => Geometries.PoolSame(15, 15, 8, 3, 2),
            "same 13x13x19 p2" => Geometries.PoolSame(13, 13, 19, 2, 2),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        var (rows, channels) = (batch * g.InH * g.InW, g.Channels);
        var (x, gamma, beta) = Inputs(rows, channels, true, true);
        var (movingMean, movingVariance) = (TestData.Random(channels, seed: 4), TestData.Random(channels, seed: 5).Select(MathF.Abs).ToArray());

        var (y, mean, invStd) = (new float[x.Length], new float[channels], new float[channels]);
        var (mm, mv) = ((float[])movingMean.Clone(), (float[])movingVariance.Clone());
        BatchNorm.ForwardTraining(x, gamma, beta, y, mean, invStd, mm, mv, rows, channels, 0.9f, Epsilon, act, alpha);
        var (py, pa) = (new float[batch * g.OutSize], new int[batch * g.OutSize]);
        MaxPool2D.Forward(y, py, pa, batch, g);

        var (fy, fa, fmean, finvStd) = (TestData.Poisoned(py.Length), new int[pa.Length], TestData.Poisoned(channels), TestData.Poisoned(channels));
        var (fmm, fmv) = ((float[])movingMean.Clone(), (float[])movingVariance.Clone());
        BatchNorm.ForwardTrainingPooled(x, gamma, beta, fy, fa, fmean, finvStd, fmm, fmv, batch, g, 0.9f, Epsilon, act, alpha);
        TestData.BitwiseEqual(py, fy, $"{name} pooled y");
        Assert.Equal(pa, fa);
        TestData.BitwiseEqual(mean, fmean, $"{name} mean");
        TestData.BitwiseEqual(invStd, finvStd, $"{name} 1/σ");
        TestData.BitwiseEqual(mm, fmm, $"{name} moving mean");
        TestData.BitwiseEqual(mv, fmv, $"{name} moving variance");

        var iy = new float[x.Length];
        BatchNorm.ForwardInference(x, gamma, beta, movingMean, movingVariance, iy, rows, channels, Epsilon, act, alpha);
        var ipy = new float[py.Length];
        MaxPool2D.Forward(iy, ipy, default, batch, g);
        var fipy = TestData.Poisoned(py.Length);
        BatchNorm.ForwardInferencePooled(x, gamma, beta, movingMean, movingVariance, fipy, batch, g, Epsilon, act, alpha);
        TestData.BitwiseEqual(ipy, fipy, $"{name} inference pooled y");
    }

    [Theory]
    [InlineData("28x28x16 p2", Epilogue.Relu, 0f)]
    [InlineData("7x7x19 p2", Epilogue.LeakyRelu, 0.1f)]
    [InlineData("same 13x13x19 p2", Epilogue.Relu, 0f)]
    [InlineData("same 13x13x19 p2", Epilogue.Linear, 0f)]
    [InlineData("same 7x7x5 p3 s3", Epilogue.Relu, 0f)]
    public void BackwardThroughPool_EqualsPoolBackwardThenBackward_Bitwise(string name, Epilogue act, float alpha)
    {
        const int batch = 3;
        var g = name switch
        {
            "28x28x16 p2" => Geometries.PoolValid(28, 28, 16, 2, 2),
            "7x7x19 p2" => Geometries.PoolValid(7, 7, 19, 2, 2),
            "same 13x13x19 p2" => Geometries.PoolSame(13, 13, 19, 2, 2),
            "same 7x7x5 p3 s3" => Geometries.PoolSame(7, 7, 5, 3, 3), // one padded row and column before the image
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        Assert.True(name != "same 7x7x5 p3 s3" || (g.PadTop == 1 && g.PadLeft == 1), "the padded case must pad before the image");
        var (rows, channels) = (batch * g.InH * g.InW, g.Channels);
        var (x, gamma, beta) = Inputs(rows, channels, true, true);
        var (y, mean, invStd) = (new float[x.Length], new float[channels], new float[channels]);
        BatchNorm.ForwardTraining(x, gamma, beta, y, mean, invStd, new float[channels], new float[channels], rows, channels, 0.9f, Epsilon, act, alpha);
        var (py, argmax) = (new float[batch * g.OutSize], new int[batch * g.OutSize]);
        MaxPool2D.Forward(y, py, argmax, batch, g);
        // Every 7th gradient −0: the pool's backward adds it to the cleared +0, which gives +0.
        var poolDy = TestData.Random(py.Length, seed: 12).Select((v, i) => i % 7 == 0 ? -0f : v).ToArray();

        var dy = new float[x.Length];
        MaxPool2D.Backward(poolDy, argmax, dy, batch, g);
        var (dx, dg, db) = (new float[x.Length], new float[channels], new float[channels]);
        BatchNorm.Backward(x, y, dy, act, alpha, gamma, beta, mean, invStd, dx, dg, db, rows, channels);

        var (fdx, fdg, fdb) = (TestData.Poisoned(x.Length), TestData.Poisoned(channels), TestData.Poisoned(channels));
        BatchNorm.BackwardThroughPool(x, poolDy, argmax, act, alpha, gamma, beta, mean, invStd, fdx, fdg, fdb, batch, g);
        TestData.BitwiseEqual(dx, fdx, $"{name} {act} dx");
        TestData.BitwiseEqual(dg, fdg, $"{name} {act} dγ");
        TestData.BitwiseEqual(db, fdb, $"{name} {act} dβ");
    }

    [Fact]
    public void BackwardThroughPool_RefusesOverlappingWindowsAndOutputDerivatives()
    {
        var g = Geometries.PoolSame(5, 5, 2, 3, 2);
        var (x, c) = (new float[g.InSize], new float[2]);
        var e = Assert.Throws<ArgumentException>(() => BatchNorm.BackwardThroughPool(x, new float[g.OutSize], new int[g.OutSize], Epilogue.Relu, 0f, default, default, c, c, default, c, c, 1, g));
        Assert.Equal("g", e.ParamName);
        var two = Geometries.PoolValid(4, 4, 2, 2, 2);
        e = Assert.Throws<ArgumentException>(() => BatchNorm.BackwardThroughPool(new float[two.InSize], new float[two.OutSize], new int[two.OutSize], Epilogue.Sigmoid, 0f, default, default, c, c, default, c, c, 1, two));
        Assert.Equal("act", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => BatchNorm.BackwardThroughPool(new float[two.InSize], new float[two.OutSize], new int[two.OutSize - 1], Epilogue.Relu, 0f, default, default, c, c, default, c, c, 1, two));
        Assert.Equal("poolArgmax", e.ParamName);
    }

    [Fact]
    public void Pooled_WrongLengths_AreRefusedByName()
    {
        var g = Geometries.PoolValid(4, 4, 3, 2, 2);
        var (x, c) = (new float[2 * g.InSize], new float[3]);
        var e = Assert.Throws<ArgumentException>(() => BatchNorm.ForwardTrainingPooled(x, default, default, new float[2 * g.OutSize - 1], default, c, c, c, c, 2, g, 0.9f, Epsilon, Epilogue.Relu, 0f));
        Assert.Equal("poolY", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => BatchNorm.ForwardTrainingPooled(x, default, default, new float[2 * g.OutSize], new int[5], c, c, c, c, 2, g, 0.9f, Epsilon, Epilogue.Relu, 0f));
        Assert.Equal("argmax", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => BatchNorm.ForwardInferencePooled(x, default, default, c, c, new float[2 * g.OutSize], 3, g, Epsilon, Epilogue.Relu, 0f));
        Assert.Equal("x", e.ParamName);
    }

    [Theory]
    [InlineData(Epilogue.Gelu)]
    [InlineData(Epilogue.Swish)]
    public void FusedActivation_NeedingItsInput_IsRefused(Epilogue act)
    {
        var x = new float[12];
        var e = Assert.Throws<ArgumentException>(() => BatchNorm.ForwardTraining(x, default, default, new float[12], new float[4], new float[4], new float[4], new float[4], 3, 4, 0.99f, Epsilon, act, 0f));
        Assert.Equal("act", e.ParamName);
    }

    [Fact]
    public void WrongLengths_AreRefusedByName()
    {
        var x = new float[12];
        var e = Assert.Throws<ArgumentException>(() => BatchNorm.ForwardInference(x, new float[3], default, new float[4], new float[4], new float[12], 3, 4, Epsilon));
        Assert.Equal("gamma", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => BatchNorm.ForwardTraining(x, default, default, new float[12], new float[4], new float[4], new float[4], new float[5], 3, 4, 0.99f, Epsilon));
        Assert.Equal("movingVariance", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => BatchNorm.Backward(x, new float[12], default, new float[4], new float[4], new float[11], default, default, 3, 4));
        Assert.Equal("dx", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchNorm.ForwardInference(x, default, default, new float[4], new float[4], new float[12], 3, 4, 0f));
    }

    private static (float[] X, float[] Gamma, float[] Beta) Inputs(int rows, int channels, bool scale, bool center)
    {
        // Per-channel offsets and spreads, so the normalization does visible work.
        var x = TestData.Random(rows * channels, seed: 1, scale: 2f);
        var offset = TestData.Random(channels, seed: 2, scale: 3f);
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = x[i] * (1 + (i % channels) % 3) + offset[i % channels];
        }
        return (x, scale ? TestData.Random(channels, seed: 2) : [], center ? TestData.Random(channels, seed: 3) : []);
    }

    private static double[]? Optional(float[] v) => v.Length == 0 ? null : TestData.ToDouble(v);
}
