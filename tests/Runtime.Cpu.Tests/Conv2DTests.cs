namespace Kiln.Runtime.Cpu.Tests;

public class Conv2DTests
{
    public static TheoryData<string, int, Epilogue> Cases() => new()
    {
        { "valid 9x11x3 k3 s1", 2, Epilogue.Linear },
        { "same 9x11x3 k3 s2", 3, Epilogue.Relu },
        { "same 7x6x2 k4 s1", 2, Epilogue.Tanh },
        { "same 8x8x1 k5 s2", 3, Epilogue.Sigmoid },
        { "valid 5x5x7 k1 s1", 2, Epilogue.Linear },
        { "valid 9x11x3 k3 s2", 1, Epilogue.Relu },
        { "same 9x11x3 k3 s2", 3, Epilogue.LeakyRelu },
        { "same 7x6x2 k4 s1", 2, Epilogue.Elu },
        { "same 8x8x1 k5 s2", 3, Epilogue.Gelu },
        { "valid 5x5x7 k1 s1", 2, Epilogue.Swish },
        { "valid 9x11x3 k3 s2", 1, Epilogue.Softplus },
    };

    private static ConvGeometry Geometry(string name) => name switch
    {
        "valid 9x11x3 k3 s1" => Geometries.ConvValid(9, 11, 3, 5, 3, 1),
        "same 9x11x3 k3 s2" => Geometries.ConvSame(9, 11, 3, 4, 3, 2),
        "same 7x6x2 k4 s1" => Geometries.ConvSame(7, 6, 2, 3, 4, 1),
        "same 8x8x1 k5 s2" => Geometries.ConvSame(8, 8, 1, 6, 5, 2),
        "valid 5x5x7 k1 s1" => Geometries.ConvValid(5, 5, 7, 13, 1, 1),
        "valid 9x11x3 k3 s2" => Geometries.ConvValid(9, 11, 3, 17, 3, 2),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Fact]
    public void Geometries_HavePaddingOnBothSides()
    {
        // Guards the test cases themselves: "same" with stride 2 on odd sizes pads top/left and bottom/right.
        var g = Geometry("same 9x11x3 k3 s2");
        Assert.Equal((5, 6, 1, 1), (g.OutH, g.OutW, g.PadTop, g.PadLeft));
        var e = Geometry("same 7x6x2 k4 s1");
        Assert.Equal((7, 6, 1, 1), (e.OutH, e.OutW, e.PadTop, e.PadLeft));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_MatchesReference(string name, int batch, Epilogue act)
    {
        var g = Geometry(name);
        var (x, w, bias) = Inputs(batch, g);
        var y = TestData.Poisoned(batch * g.OutSize);
        Conv2D.Forward(x, w, bias, y, batch, g, act, Scratch(batch, g));
        var expected = Conv2DReference.Forward(TestData.ToDouble(x), TestData.ToDouble(w), TestData.ToDouble(bias), batch, g, act);
        Approx.Equal(expected, y, $"conv forward {name}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_MatchesReference(string name, int batch, Epilogue act)
    {
        _ = act;
        var g = Geometry(name);
        var (x, w, _) = Inputs(batch, g);
        var dz = TestData.Random(batch * g.OutSize, seed: 21);
        var dx = TestData.Poisoned(batch * g.InSize);
        var dw = TestData.Poisoned(w.Length);
        var db = TestData.Poisoned(g.OutC);
        Conv2D.BackwardData(dz, w, dx, batch, g, Scratch(batch, g));
        Conv2D.BackwardWeights(x, dz, dw, db, batch, g, Scratch(batch, g));

        Approx.Equal(Conv2DReference.BackwardData(TestData.ToDouble(dz), TestData.ToDouble(w), batch, g), dx, $"conv dx {name}");
        var (rdw, rdb) = Conv2DReference.BackwardWeights(TestData.ToDouble(x), TestData.ToDouble(dz), batch, g);
        // dw and db sum over batch·OutH·OutW (up to 126) products: the long-reduction tolerance.
        Approx.Equal(rdw, dw, $"conv dw {name}", Approx.LongAtol, Approx.LongRtol);
        Approx.Equal(rdb, db, $"conv db {name}", Approx.LongAtol, Approx.LongRtol);
    }

    [Theory]
    [InlineData("same 9x11x3 k3 s2", 2)]
    [InlineData("same 7x6x2 k4 s1", 1)]
    [InlineData("valid 9x11x3 k3 s2", 1)]
    public void Backward_MatchesFiniteDifferences(string name, int batch)
    {
        // L = Σ r·conv(x, w, b) (linear), so the backward kernels with dz = r must equal ∇L.
        var g = Geometry(name);
        var (x, w, bias) = Inputs(batch, g);
        var r = TestData.ToDouble(TestData.Random(batch * g.OutSize, seed: 23));
        double[] xd = TestData.ToDouble(x), wd = TestData.ToDouble(w), bd = TestData.ToDouble(bias);
        double Loss(double[] xv, double[] wv, double[] bv) => TestData.Dot(r, Conv2DReference.Forward(xv, wv, bv, batch, g, Epilogue.Linear));

        var dz = r.Select(v => (float)v).ToArray();
        var dx = TestData.Poisoned(x.Length);
        var dw = TestData.Poisoned(w.Length);
        var db = TestData.Poisoned(bias.Length);
        Conv2D.BackwardData(dz, w, dx, batch, g, Scratch(batch, g));
        Conv2D.BackwardWeights(x, dz, dw, db, batch, g, Scratch(batch, g));

        Approx.Equal(FiniteDifference.Gradient(v => Loss(v, wd, bd), xd), dx, "dL/dx", Approx.FdAtol, Approx.FdRtol);
        Approx.Equal(FiniteDifference.Gradient(v => Loss(xd, v, bd), wd), dw, "dL/dw", Approx.FdAtol, Approx.FdRtol);
        Approx.Equal(FiniteDifference.Gradient(v => Loss(xd, wd, v), bd), db, "dL/db", Approx.FdAtol, Approx.FdRtol);
    }

    [Fact]
    public void MnistConv2_ScratchIsFarBelowIm2Col_AndStaysBounded()
    {
        // conv 14×14×16 → 32, k5 same: the scratch holds padded samples (and the packed kernel), never the im2col matrix.
        var g = Geometries.ConvSame(14, 14, 16, 32, 5, 1);
        const int batch = 8;
        Assert.True(Conv2D.ScratchSize(batch, g) < batch * g.OutH * g.OutW * g.PatchSize, "scratch must be smaller than im2col");
        Assert.True(Conv2D.ScratchSize(128, g) * sizeof(float) <= 4 << 20, "scratch for batch 128 stays within 4 MiB");

        var (x, w, bias) = Inputs(batch, g);
        var y = TestData.Poisoned(batch * g.OutSize);
        Conv2D.Forward(x, w, bias, y, batch, g, Epilogue.Relu, Scratch(batch, g));
        Approx.Equal(Conv2DReference.Forward(TestData.ToDouble(x), TestData.ToDouble(w), TestData.ToDouble(bias), batch, g, Epilogue.Relu), y,
            "mnist conv2 forward", Approx.LongAtol, Approx.LongRtol);

        var dz = TestData.Random(y.Length, seed: 25);
        var dx = TestData.Poisoned(x.Length);
        var dw = TestData.Poisoned(w.Length);
        var db = TestData.Poisoned(g.OutC);
        Conv2D.BackwardData(dz, w, dx, batch, g, Scratch(batch, g));
        Conv2D.BackwardWeights(x, dz, dw, db, batch, g, Scratch(batch, g));
        Approx.Equal(Conv2DReference.BackwardData(TestData.ToDouble(dz), TestData.ToDouble(w), batch, g), dx, "mnist conv2 dx", Approx.LongAtol, Approx.LongRtol);
        var (rdw, rdb) = Conv2DReference.BackwardWeights(TestData.ToDouble(x), TestData.ToDouble(dz), batch, g);
        // dw sums 1568 products.
        Approx.Equal(rdw, dw, "mnist conv2 dw", 1e-3, 1e-3);
        Approx.Equal(rdb, db, "mnist conv2 db", 1e-3, 1e-3);
    }

    [Fact]
    public void ScratchSize_IsNonDecreasingInBatch()
    {
        var g = Geometries.ConvSame(14, 14, 16, 32, 5, 1);
        var previous = 0;
        for (var batch = 1; batch <= 64; batch++)
        {
            var size = Conv2D.ScratchSize(batch, g);
            Assert.True(size >= previous, $"batch {batch}: {size} < {previous}");
            previous = size;
        }
    }

    [Fact]
    public void SameInputs_SameBits()
    {
        var g = Geometries.ConvSame(14, 14, 16, 32, 5, 1);
        const int batch = 7;
        var (x, w, bias) = Inputs(batch, g);
        float[] y1 = new float[batch * g.OutSize], y2 = new float[batch * g.OutSize];
        float[] dw1 = new float[w.Length], dw2 = new float[w.Length], db = new float[g.OutC];
        float[] dx1 = new float[x.Length], dx2 = new float[x.Length];
        var scratch = Scratch(batch, g);
        Conv2D.Forward(x, w, bias, y1, batch, g, Epilogue.Relu, scratch);
        Conv2D.BackwardWeights(x, y1, dw1, db, batch, g, scratch);
        Conv2D.BackwardData(y1, w, dx1, batch, g, scratch);
        Conv2D.Forward(x, w, bias, y2, batch, g, Epilogue.Relu, scratch);
        Conv2D.BackwardWeights(x, y2, dw2, db, batch, g, scratch);
        Conv2D.BackwardData(y2, w, dx2, batch, g, scratch);
        TestData.BitwiseEqual(y1, y2, "y");
        TestData.BitwiseEqual(dw1, dw2, "dw");
        TestData.BitwiseEqual(dx1, dx2, "dx");
    }

    [Fact]
    public void ShortScratch_ThrowsNamingIt()
    {
        var g = Geometries.ConvValid(5, 5, 1, 2, 3, 1);
        var need = Conv2D.ScratchSize(1, g);
        var ex = Assert.Throws<ArgumentException>(() =>
            Conv2D.Forward(new float[25], new float[18], new float[2], new float[18], 1, g, Epilogue.Linear, new float[need - 1]));
        Assert.Equal("scratch", ex.ParamName);
        Assert.Contains($"expected at least {need}", ex.Message);
    }

    private static (float[] X, float[] W, float[] Bias) Inputs(int batch, ConvGeometry g) =>
        (TestData.Random(batch * g.InSize, seed: 1 + g.InH), TestData.Random(g.PatchSize * g.OutC, seed: 2 + g.OutC), TestData.Random(g.OutC, seed: 3));

    private static float[] Scratch(int batch, ConvGeometry g) => TestData.Poisoned(Conv2D.ScratchSize(batch, g));
}
