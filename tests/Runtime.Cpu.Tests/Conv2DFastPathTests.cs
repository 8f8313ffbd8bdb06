namespace Kiln.Runtime.Cpu.Tests;

/// <summary>The implicit-GEMM convolution on ragged shapes: channel counts off the 8/16 grid, batches 1, 3 and 129.</summary>
public class Conv2DFastPathTests
{
    public static TheoryData<string, int> Cases() => new()
    {
        { "mnist conv1 28x28x1→16 k5 same", 1 },
        { "mnist conv1 28x28x1→16 k5 same", 3 },
        { "13x11x3→5 k5 same", 3 },
        { "10x9x1→17 k3 valid", 1 },
        { "9x9x19→9 k3 same", 3 },
        { "11x7x11→6 k3 same s2", 3 },
        { "6x5x2→3 k4 same", 1 },
    };

    private static ConvGeometry Geometry(string name) => name switch
    {
        "mnist conv1 28x28x1→16 k5 same" => Geometries.ConvSame(28, 28, 1, 16, 5, 1),
        "13x11x3→5 k5 same" => Geometries.ConvSame(13, 11, 3, 5, 5, 1),
        "10x9x1→17 k3 valid" => Geometries.ConvValid(10, 9, 1, 17, 3, 1),
        "9x9x19→9 k3 same" => Geometries.ConvSame(9, 9, 19, 9, 3, 1),
        "11x7x11→6 k3 same s2" => Geometries.ConvSame(11, 7, 11, 6, 3, 2),
        "6x5x2→3 k4 same" => Geometries.ConvSame(6, 5, 2, 3, 4, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardAndBackward_MatchDoubleReference(string name, int batch)
    {
        Check(Geometry(name), batch, name);
    }

    [Fact]
    public void Batch129_SpansTwoPaddedChunks()
    {
        // 14×14×16 pads to 18×18×16 = 5184 floats: 101 samples per chunk, so 129 samples take two.
        var g = Geometries.ConvSame(14, 14, 16, 7, 5, 1);
        Assert.InRange(Conv2D.ScratchFloats / (18 * 18 * 16), 1, 128);
        Check(g, 129, "chunked 14x14x16→7");
    }

    private static void Check(ConvGeometry g, int batch, string name)
    {
        var x = TestData.Random(batch * g.InSize, seed: 11);
        var w = TestData.Random(g.PatchSize * g.OutC, seed: 12);
        var bias = TestData.Random(g.OutC, seed: 13);
        var dz = TestData.Random(batch * g.OutSize, seed: 14);
        var scratch = TestData.Poisoned(Conv2D.ScratchSize(batch, g));
        double[] xd = TestData.ToDouble(x), wd = TestData.ToDouble(w);
        // Reductions over up to K·K·InC (forward, dx) or batch·OutH·OutW (dw) terms.
        const double atol = 1e-3, rtol = 1e-3;

        var y = TestData.Poisoned(batch * g.OutSize);
        Conv2D.Forward(x, w, bias, y, batch, g, Epilogue.Relu, scratch);
        Approx.Equal(Conv2DReference.Forward(xd, wd, TestData.ToDouble(bias), batch, g, Epilogue.Relu), y, $"{name} y", atol, rtol);

        var dx = TestData.Poisoned(x.Length);
        Conv2D.BackwardData(dz, w, dx, batch, g, scratch);
        Approx.Equal(Conv2DReference.BackwardData(TestData.ToDouble(dz), wd, batch, g), dx, $"{name} dx", atol, rtol);

        var dw = TestData.Poisoned(w.Length);
        var db = TestData.Poisoned(g.OutC);
        Conv2D.BackwardWeights(x, dz, dw, db, batch, g, scratch);
        var (rdw, rdb) = Conv2DReference.BackwardWeights(xd, TestData.ToDouble(dz), batch, g);
        Approx.Equal(rdw, dw, $"{name} dw", atol, rtol);
        Approx.Equal(rdb, db, $"{name} db", atol, rtol);
    }
}
