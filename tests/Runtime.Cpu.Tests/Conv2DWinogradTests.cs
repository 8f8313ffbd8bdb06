namespace Kiln.Runtime.Cpu.Tests;

/// <summary>
/// 5×5 stride-1 convolutions with channel counts in whole vectors take the Winograd F(4×4, 5×5) path at every batch,
/// 3×3 ones with at least 16 channels in and out F(6×6, 3×3): output sizes whose last tile has one to five rows and
/// columns inside, same and valid padding, a part of one 24-tile block, several blocks and padded chunks. The data
/// gradient of the same convolutions runs as the same Winograd on dz.
/// </summary>
[Collection(nameof(ThreadingTests))]
public class Conv2DWinogradTests
{
    public static TheoryData<string, int, Epilogue> Cases() => new()
    {
        { "mnist conv2 14x14x16→32 same", 1, Epilogue.Relu },
        { "mnist conv2 14x14x16→32 same", 3, Epilogue.Relu },
        { "mnist conv2 14x14x16→32 same", 16, Epilogue.Relu },
        { "mnist conv2 14x14x16→32 same", 129, Epilogue.Relu },
        { "13x11x8→16 valid", 17, Epilogue.Linear },
        { "9x10x24→8 same", 16, Epilogue.Tanh },
        { "5x5x8→40 same", 20, Epilogue.Relu },
        { "mnist conv2 14x14x16→32 same", 3, Epilogue.LeakyRelu },
        { "13x11x8→16 valid", 5, Epilogue.Elu },
        { "9x10x24→8 same", 3, Epilogue.Gelu },
        { "5x5x8→40 same", 2, Epilogue.Swish },
        { "mnist conv2 14x14x16→32 same", 2, Epilogue.Softplus },
        { "k3 16x16x16→32 same", 1, Epilogue.Relu },
        { "k3 16x16x16→32 same", 3, Epilogue.Relu },
        { "k3 16x16x16→32 same", 40, Epilogue.Relu },
        { "k3 13x11x24→16 valid", 3, Epilogue.Linear },
        { "k3 9x10x16→40 same", 5, Epilogue.Tanh },
        { "k3 11x5x32→16 same", 1, Epilogue.Elu },
        { "k3 8x12x16→16 same", 3, Epilogue.Gelu },
    };

    private static ConvGeometry Geometry(string name) => name switch
    {
        "mnist conv2 14x14x16→32 same" => Geometries.ConvSame(14, 14, 16, 32, 5, 1),
        "13x11x8→16 valid" => Geometries.ConvValid(13, 11, 8, 16, 5, 1),
        "9x10x24→8 same" => Geometries.ConvSame(9, 10, 24, 8, 5, 1),
        "5x5x8→40 same" => Geometries.ConvSame(5, 5, 8, 40, 5, 1),
        "k3 16x16x16→32 same" => Geometries.ConvSame(16, 16, 16, 32, 3, 1),
        "k3 13x11x24→16 valid" => Geometries.ConvValid(13, 11, 24, 16, 3, 1),
        "k3 9x10x16→40 same" => Geometries.ConvSame(9, 10, 16, 40, 3, 1),
        "k3 11x5x32→16 same" => Geometries.ConvSame(11, 5, 32, 16, 3, 1),
        "k3 8x12x16→16 same" => Geometries.ConvSame(8, 12, 16, 16, 3, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_MatchesDoubleReference(string name, int batch, Epilogue act)
    {
        var g = Geometry(name);
        Assert.True(Conv2D.RunsAsWinograd(g), $"{name} should run as Winograd");
        var x = TestData.Random(batch * g.InSize, seed: 41);
        var w = TestData.Random(g.PatchSize * g.OutC, seed: 42, scale: 0.2f);
        var bias = TestData.Random(g.OutC, seed: 43);
        var y = TestData.Poisoned(batch * g.OutSize);
        Conv2D.Forward(x, w, bias, y, batch, g, act, TestData.Poisoned(Conv2D.ScratchSize(batch, g)));
        var expected = Conv2DReference.Forward(TestData.ToDouble(x), TestData.ToDouble(w), TestData.ToDouble(bias), batch, g, act);
        // Up to 25·InC terms; the transforms add a few roundings of values up to 5× the inputs.
        Approx.Equal(expected, y, $"{name} y", atol: 1e-4, rtol: 1e-4);
    }

    /// <summary>
    /// dx of the same convolutions (Winograd on dz, the kernel flipped and transposed) against the float64 reference; dz
    /// with rows and channels of zeros as ReLU leaves them, which the zero-window flags then skip exactly.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void BackwardData_MatchesDoubleReference(string name, int batch, Epilogue act)
    {
        _ = act;
        var g = Geometry(name);
        Assert.True(Conv2D.RunsAsWinograd(g), $"{name} should run as Winograd");
        var dz = TestData.Random(batch * g.OutSize, seed: 61);
        for (var i = 0; i < dz.Length; i += 3)
        {
            dz[i] = Math.Max(dz[i], 0f);
        }
        var w = TestData.Random(g.PatchSize * g.OutC, seed: 62, scale: 0.2f);
        var dx = TestData.Poisoned(batch * g.InSize);
        Conv2D.BackwardData(dz, w, dx, batch, g, TestData.Poisoned(Conv2D.ScratchSize(batch, g)));
        var expected = Conv2DReference.BackwardData(TestData.ToDouble(dz), TestData.ToDouble(w), batch, g);
        // Up to K²·OutC terms, and the transforms' roundings as in the forward pass.
        Approx.Equal(expected, dx, $"{name} dx", atol: 1e-4, rtol: 1e-4);

        // Other roundings than the implicit GEMM's: the Winograd path did run.
        var direct = TestData.Poisoned(dx.Length);
        Conv2D.NoWinograd = true;
        try
        {
            Conv2D.BackwardData(dz, w, direct, batch, g, new float[Conv2D.ScratchSize(batch, g)]);
        }
        finally
        {
            Conv2D.NoWinograd = false;
        }
        Approx.Equal(expected, direct, $"{name} dx, implicit GEMM");
        Assert.False(direct.AsSpan().SequenceEqual(dx), $"{name}: dx bitwise the implicit GEMM's");
    }

    /// <summary>dw (Winograd: the adjoint of the forward transforms, summed over tiles) and db against the float64 reference.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void BackwardWeights_MatchesDoubleReference(string name, int batch, Epilogue act)
    {
        _ = act;
        var g = Geometry(name);
        var x = TestData.Random(batch * g.InSize, seed: 81);
        var dz = TestData.Random(batch * g.OutSize, seed: 82);
        var (dw, db) = (TestData.Poisoned(g.PatchSize * g.OutC), TestData.Poisoned(g.OutC));
        Conv2D.BackwardWeights(x, dz, dw, db, batch, g, TestData.Poisoned(Conv2D.ScratchSize(batch, g)));
        var (expectedDw, expectedDb) = Conv2DReference.BackwardWeights(TestData.ToDouble(x), TestData.ToDouble(dz), batch, g);
        // Sums over every output pixel of the batch, through the transforms: within 5e-5 of the largest element (the
        // worst case, 5×5 at batch 129, measured 1.0e-5).
        Approx.Equal(expectedDw, dw, $"{name} dw", atol: 5e-5 * expectedDw.Max(Math.Abs), rtol: 1e-5);
        Approx.Equal(expectedDb, db, $"{name} db");

        // Other roundings than the implicit GEMM's: the Winograd path did run.
        var direct = TestData.Poisoned(dw.Length);
        Conv2D.NoWinograd = true;
        try
        {
            Conv2D.BackwardWeights(x, dz, direct, db, batch, g, new float[Conv2D.ScratchSize(batch, g)]);
        }
        finally
        {
            Conv2D.NoWinograd = false;
        }
        Assert.False(direct.AsSpan().SequenceEqual(dw), $"{name}: dw bitwise the implicit GEMM's");
    }

    /// <summary>
    /// 3×3 convolutions with few channels, channels off whole vectors, or small images that leave most of the 6×6 tiles
    /// outside the output stay on the implicit GEMM (and stay right).
    /// </summary>
    [Theory]
    [InlineData(13, 11, 1, 16, true, false)]
    [InlineData(13, 11, 8, 16, true, false)]
    [InlineData(13, 11, 16, 8, true, false)]
    [InlineData(13, 11, 12, 16, false, false)]
    [InlineData(13, 11, 16, 20, true, false)]
    [InlineData(13, 11, 16, 16, true, true)]
    [InlineData(13, 11, 16, 16, false, true)]
    [InlineData(7, 7, 32, 32, true, false)]
    [InlineData(8, 8, 32, 32, true, false)]
    [InlineData(5, 5, 32, 32, true, true)]
    public void SmallOrRaggedChannels_OrSmallImages_TakeTheImplicitGemm(int h, int w, int inC, int outC, bool same, bool winograd)
    {
        var g = same ? Geometries.ConvSame(h, w, inC, outC, 3, 1) : Geometries.ConvValid(h, w, inC, outC, 3, 1);
        Assert.Equal(winograd, Conv2D.RunsAsWinograd(g));
        const int batch = 3;
        var x = TestData.Random(batch * g.InSize, seed: 71);
        var kernel = TestData.Random(g.PatchSize * g.OutC, seed: 72, scale: 0.2f);
        var bias = TestData.Random(g.OutC, seed: 73);
        var y = TestData.Poisoned(batch * g.OutSize);
        Conv2D.Forward(x, kernel, bias, y, batch, g, Epilogue.Relu, TestData.Poisoned(Conv2D.ScratchSize(batch, g)));
        Approx.Equal(Conv2DReference.Forward(TestData.ToDouble(x), TestData.ToDouble(kernel), TestData.ToDouble(bias), batch, g, Epilogue.Relu), y, "y", atol: 1e-4, rtol: 1e-4);
    }

    /// <summary>
    /// Where an output's whole window is zero (blank borders, all-zero channels after ReLU), the implicit GEMM gives exactly
    /// the bias, and so must Winograd: a rounding residue there would decide ReLU's gradient at a zero bias.
    /// </summary>
    [Theory]
    [InlineData(0f, "mnist conv2 14x14x16→32 same")]
    [InlineData(0.25f, "mnist conv2 14x14x16→32 same")]
    [InlineData(0f, "k3 16x16x16→32 same")]
    [InlineData(0.25f, "k3 16x16x16→32 same")]
    public void ZeroWindows_GiveExactlyTheBias_AsTheImplicitGemm(float biasValue, string name)
    {
        var g = Geometry(name);
        const int batch = 5;
        // A blob in the middle of each sample, zeros around it, and one sample all zero: windows of every kind.
        var x = TestData.Random(batch * g.InSize, seed: 47);
        for (var i = 0; i < x.Length; i++)
        {
            var (sample, rest) = Math.DivRem(i, g.InSize);
            var (row, col) = (rest / (g.InW * g.InC), rest / g.InC % g.InW);
            if (sample == 3 || row is < 5 or > 8 || col is < 4 or > 10 || x[i] < 0)
            {
                x[i] = 0f;
            }
        }
        var w = TestData.Random(g.PatchSize * g.OutC, seed: 48, scale: 0.2f);
        var bias = Enumerable.Repeat(biasValue, g.OutC).ToArray();
        var scratch = new float[Conv2D.ScratchSize(batch, g)];
        var winograd = new float[batch * g.OutSize];
        Conv2D.Forward(x, w, bias, winograd, batch, g, Epilogue.Linear, scratch);
        var direct = new float[winograd.Length];
        Conv2D.NoWinograd = true;
        try
        {
            Conv2D.Forward(x, w, bias, direct, batch, g, Epilogue.Linear, scratch);
        }
        finally
        {
            Conv2D.NoWinograd = false;
        }
        var exact = 0;
        for (var i = 0; i < direct.Length; i++)
        {
            if (direct[i] == biasValue)
            {
                Assert.True(BitConverter.SingleToInt32Bits(winograd[i]) == BitConverter.SingleToInt32Bits(biasValue), $"output {i}: the implicit GEMM gives exactly the bias {biasValue}, Winograd {winograd[i]:R}");
                exact++;
            }
        }
        // Whole samples and the blob's surroundings: most outputs, so the check above is not vacuous.
        Assert.InRange(exact, direct.Length / 2, direct.Length);
        Approx.Equal(TestData.ToDouble(direct), winograd, "Winograd against the implicit GEMM", atol: 1e-4, rtol: 1e-4);
    }

    /// <summary>
    /// A TransformedKernel serves the same kernel again without transforming it (proved by poisoning what it keeps) and
    /// transforms any changed kernel afresh, even one changed in its last element.
    /// </summary>
    [Fact]
    public unsafe void TransformedKernel_IsReusedForTheSameKernelOnly()
    {
        var g = Geometry("mnist conv2 14x14x16→32 same");
        const int batch = 2;
        var x = TestData.Random(batch * g.InSize, seed: 51);
        var w = TestData.Random(g.PatchSize * g.OutC, seed: 52, scale: 0.2f);
        var bias = TestData.Random(g.OutC, seed: 53);
        var scratch = new float[Conv2D.ScratchSize(batch, g)];
        float[] Run(TransformedKernel? kept)
        {
            var y = TestData.Poisoned(batch * g.OutSize);
            Conv2D.Forward(x, w, bias, y, batch, g, Epilogue.Linear, scratch, kept);
            return y;
        }
        var kept = new TransformedKernel();
        TestData.BitwiseEqual(Run(null), Run(kept), "first call with a TransformedKernel");
        TestData.BitwiseEqual(Run(null), Run(kept), "second call");

        // Reused: what it keeps is what the next call multiplies by.
        new Span<float>(kept.Transformed, 64 * g.InC * g.OutC).Fill(float.NaN);
        Assert.All(Run(kept), v => Assert.True(float.IsNaN(v)));

        // Changed in its last element: transformed again, so the poison is gone and the result is the new kernel's.
        w[^1] += 0.5f;
        TestData.BitwiseEqual(Run(null), Run(kept), "changed kernel");

        // The same values as a kernel of other channels (32 → 16: as many weights, as large a transform) never match.
        var swapped = Geometries.ConvSame(14, 14, 32, 16, 5, 1);
        var xs = TestData.Random(batch * swapped.InSize, seed: 54);
        var swappedScratch = new float[Conv2D.ScratchSize(batch, swapped)];
        float[] RunSwapped(TransformedKernel? keep)
        {
            var y = TestData.Poisoned(batch * swapped.OutSize);
            Conv2D.Forward(xs, w, bias.AsSpan(0, 16), y, batch, swapped, Epilogue.Linear, swappedScratch, keep);
            return y;
        }
        TestData.BitwiseEqual(RunSwapped(null), RunSwapped(kept), "same values, other channels");
    }

    [Theory]
    [InlineData("mnist conv2 14x14x16→32 same", 129)]
    [InlineData("k3 16x16x16→32 same", 67)]
    public void ForwardAndBackward_AreDeterministicAndThreadIndependent(string name, int batch)
    {
        var g = Geometry(name);
        var x = TestData.Random(batch * g.InSize, seed: 44);
        var w = TestData.Random(g.PatchSize * g.OutC, seed: 45);
        var bias = TestData.Random(g.OutC, seed: 46);
        var dz = TestData.Random(batch * g.OutSize, seed: 47);
        var scratch = new float[Conv2D.ScratchSize(batch, g)];
        (float[] Y, float[] Dx, float[] Dw) Run(bool serial)
        {
            Workers.Serial = serial;
            try
            {
                var y = new float[batch * g.OutSize];
                Conv2D.Forward(x, w, bias, y, batch, g, Epilogue.Relu, scratch);
                var dx = new float[batch * g.InSize];
                Conv2D.BackwardData(dz, w, dx, batch, g, scratch);
                var dw = new float[w.Length];
                Conv2D.BackwardWeights(x, dz, dw, new float[g.OutC], batch, g, scratch);
                return (y, dx, dw);
            }
            finally
            {
                Workers.Serial = false;
            }
        }
        var expected = Run(serial: true);
        foreach (var what in new[] { "parallel", "parallel again" })
        {
            var (y, dx, dw) = Run(serial: false);
            TestData.BitwiseEqual(expected.Y, y, $"{what} y");
            TestData.BitwiseEqual(expected.Dx, dx, $"{what} dx");
            TestData.BitwiseEqual(expected.Dw, dw, $"{what} dw");
        }
    }
}
