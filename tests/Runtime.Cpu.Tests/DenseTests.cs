namespace Kiln.Runtime.Cpu.Tests;

public class DenseTests
{
    public static TheoryData<int, int, int, Epilogue> Shapes() => new()
    {
        { 3, 7, 13, Epilogue.Linear },
        { 3, 7, 13, Epilogue.Relu },
        { 1, 1, 1, Epilogue.Sigmoid },
        { 5, 16, 8, Epilogue.Tanh },
        { 17, 33, 19, Epilogue.Relu },
        { 130, 300, 40, Epilogue.Linear },
        { 3, 7, 13, Epilogue.LeakyRelu },
        { 5, 16, 9, Epilogue.Elu },
        { 17, 33, 19, Epilogue.Gelu },
        { 4, 9, 24, Epilogue.Swish },
        { 3, 8, 11, Epilogue.Softplus },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_MatchesReference(int batch, int inF, int outF, Epilogue act)
    {
        var (x, w, bias) = Inputs(batch, inF, outF);
        var y = TestData.Poisoned(batch * outF);
        Dense.Forward(x, w, bias, y, batch, inF, outF, act);
        var expected = DenseReference.Forward(TestData.ToDouble(x), TestData.ToDouble(w), TestData.ToDouble(bias), batch, inF, outF, act);
        var (atol, rtol) = Tolerance(inF);
        Approx.Equal(expected, y, $"dense forward {batch}×{inF}→{outF} {act}", atol, rtol);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Backward_MatchesReference(int batch, int inF, int outF, Epilogue act)
    {
        _ = act;
        var (x, w, _) = Inputs(batch, inF, outF);
        var dz = TestData.Random(batch * outF, seed: 7);
        var dx = TestData.Poisoned(batch * inF);
        var dw = TestData.Poisoned(inF * outF);
        var db = TestData.Poisoned(outF);
        Dense.BackwardData(dz, w, dx, batch, inF, outF);
        Dense.BackwardWeights(x, dz, dw, db, batch, inF, outF);

        Approx.Equal(DenseReference.BackwardData(TestData.ToDouble(dz), TestData.ToDouble(w), batch, inF, outF), dx, "dx", Tolerance(outF).Atol, Tolerance(outF).Rtol);
        var (rdw, rdb) = DenseReference.BackwardWeights(TestData.ToDouble(x), TestData.ToDouble(dz), batch, inF, outF);
        Approx.Equal(rdw, dw, "dw", Tolerance(batch).Atol, Tolerance(batch).Rtol);
        Approx.Equal(rdb, db, "db", Tolerance(batch).Atol, Tolerance(batch).Rtol);
    }

    [Theory]
    [InlineData(3, 7, 13)]
    [InlineData(4, 5, 2)]
    public void Backward_MatchesFiniteDifferences(int batch, int inF, int outF)
    {
        // L = Σ r·y with y the linear layer; ∂L/∂y = r, so the kernels' backward with dz = r must equal ∇L.
        var (x, w, bias) = Inputs(batch, inF, outF);
        var r = TestData.ToDouble(TestData.Random(batch * outF, seed: 9));
        double[] xd = TestData.ToDouble(x), wd = TestData.ToDouble(w), bd = TestData.ToDouble(bias);
        double Loss(double[] xv, double[] wv, double[] bv) => TestData.Dot(r, DenseReference.Forward(xv, wv, bv, batch, inF, outF, Epilogue.Linear));

        var dz = r.Select(v => (float)v).ToArray();
        var dx = TestData.Poisoned(batch * inF);
        var dw = TestData.Poisoned(inF * outF);
        var db = TestData.Poisoned(outF);
        Dense.BackwardData(dz, w, dx, batch, inF, outF);
        Dense.BackwardWeights(x, dz, dw, db, batch, inF, outF);

        Approx.Equal(FiniteDifference.Gradient(v => Loss(v, wd, bd), xd), dx, "dL/dx", Approx.FdAtol, Approx.FdRtol);
        Approx.Equal(FiniteDifference.Gradient(v => Loss(xd, v, bd), wd), dw, "dL/dw", Approx.FdAtol, Approx.FdRtol);
        Approx.Equal(FiniteDifference.Gradient(v => Loss(xd, wd, v), bd), db, "dL/db", Approx.FdAtol, Approx.FdRtol);
    }

    [Fact]
    public void SameInputs_SameBits()
    {
        const int batch = 9, inF = 70, outF = 23;
        var (x, w, bias) = Inputs(batch, inF, outF);
        float[] y1 = new float[batch * outF], y2 = new float[batch * outF];
        float[] dw1 = new float[inF * outF], dw2 = new float[inF * outF], db1 = new float[outF], db2 = new float[outF];
        Dense.Forward(x, w, bias, y1, batch, inF, outF, Epilogue.Tanh);
        Dense.BackwardWeights(x, y1, dw1, db1, batch, inF, outF);
        Dense.Forward(x, w, bias, y2, batch, inF, outF, Epilogue.Tanh);
        Dense.BackwardWeights(x, y2, dw2, db2, batch, inF, outF);
        TestData.BitwiseEqual(y1, y2, "y");
        TestData.BitwiseEqual(dw1, dw2, "dw");
        TestData.BitwiseEqual(db1, db2, "db");
    }

    [Fact]
    public void WrongLength_ThrowsNamingArgumentAndLengths()
    {
        var ex = Assert.Throws<ArgumentException>(() => Dense.Forward(new float[6], new float[5], new float[2], new float[4], 2, 3, 2, Epilogue.Linear));
        Assert.Equal("w", ex.ParamName);
        Assert.Contains("w has length 5; expected 6", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Dense.BackwardWeights(new float[6], new float[4], new float[6], new float[3], 2, 3, 2));
        Assert.Equal("db", ex.ParamName);
        Assert.Contains("db has length 3; expected 2", ex.Message);
    }

    private static (float[] X, float[] W, float[] Bias) Inputs(int batch, int inF, int outF) =>
        (TestData.Random(batch * inF, seed: batch + 1), TestData.Random(inF * outF, seed: inF + 2), TestData.Random(outF, seed: outF + 3));

    // Reductions of more than 100 terms use the long-reduction tolerance.
    private static (double Atol, double Rtol) Tolerance(int terms) => terms > 100 ? (Approx.LongAtol, Approx.LongRtol) : (Approx.Atol, Approx.Rtol);
}
