namespace Kiln.Runtime.Cpu.Tests;

public class AvgPool2DTests
{
    public static TheoryData<string, int> Cases() => new()
    {
        { "valid 9x11x3 p2 s2", 3 },
        { "same 9x11x3 p3 s2", 1 },
        { "same 7x7x13 p2 s2", 3 },
        { "same 7x6x2 p2 s1", 1 },
        { "valid 8x8x5 p3 s3", 2 },
        { "same 5x6x4 p3 s1", 3 },
    };

    private static PoolGeometry Geometry(string name) => name switch
    {
        "valid 9x11x3 p2 s2" => Geometries.PoolValid(9, 11, 3, 2, 2),
        "same 9x11x3 p3 s2" => Geometries.PoolSame(9, 11, 3, 3, 2),
        "same 7x7x13 p2 s2" => Geometries.PoolSame(7, 7, 13, 2, 2),
        "same 7x6x2 p2 s1" => Geometries.PoolSame(7, 6, 2, 2, 1),
        "valid 8x8x5 p3 s3" => Geometries.PoolValid(8, 8, 5, 3, 3),
        "same 5x6x4 p3 s1" => Geometries.PoolSame(5, 6, 4, 3, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_MatchesReference(string name, int batch)
    {
        var g = Geometry(name);
        var x = TestData.Random(batch * g.InSize, seed: 51);
        var y = TestData.Poisoned(batch * g.OutSize);
        AvgPool2D.Forward(x, y, batch, g);
        Approx.Equal(PoolReference.Average(TestData.ToDouble(x), batch, g), y, $"avgpool {name}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_MatchesFiniteDifferences(string name, int batch)
    {
        var g = Geometry(name);
        var x = TestData.ToDouble(TestData.Random(batch * g.InSize, seed: 52));
        var r = TestData.ToDouble(TestData.Random(batch * g.OutSize, seed: 53));
        var dx = TestData.Poisoned(x.Length);
        AvgPool2D.Backward(r.Select(v => (float)v).ToArray(), dx, batch, g);
        var expected = FiniteDifference.Gradient(v => TestData.Dot(r, PoolReference.Average(v, batch, g)), x);
        Approx.Equal(expected, dx, $"avgpool dx {name}", Approx.FdAtol, Approx.FdRtol);
    }

    [Fact]
    public void Same_DividesByTheCellsInsideTheInput()
    {
        // 3×3 input 1..9, pool 2 stride 2 same → 2×2 windows holding 4, 2, 2 and 1 cells inside the input:
        // (1+2+4+5)/4 = 3, (3+6)/2 = 4.5, (7+8)/2 = 7.5, 9/1 = 9 (Keras; counting the padding would give 2.25, 2.25, 3.75, 2.25).
        var g = Geometries.PoolSame(3, 3, 1, 2, 2);
        var y = TestData.Poisoned(4);
        AvgPool2D.Forward([1, 2, 3, 4, 5, 6, 7, 8, 9], y, 1, g);
        Approx.Equal([3, 4.5, 7.5, 9], y, "same average", 0, 0);
    }

    [Fact]
    public void AnyThreadCount_SameBits()
    {
        var g = Geometries.PoolSame(15, 15, 24, 3, 2);
        const int batch = 40;
        var x = TestData.Random(batch * g.InSize, seed: 54);
        var dy = TestData.Random(batch * g.OutSize, seed: 55);
        (float[] Y, float[] Dx) Run(bool serial)
        {
            Workers.Serial = serial;
            try
            {
                var (y, dx) = (new float[dy.Length], new float[x.Length]);
                AvgPool2D.Forward(x, y, batch, g);
                AvgPool2D.Backward(dy, dx, batch, g);
                return (y, dx);
            }
            finally
            {
                Workers.Serial = false;
            }
        }
        var (a, b) = (Run(true), Run(false));
        TestData.BitwiseEqual(a.Y, b.Y, "y");
        TestData.BitwiseEqual(a.Dx, b.Dx, "dx");
    }

    [Fact]
    public void WrongLengths_AreRefusedByName()
    {
        var g = Geometries.PoolValid(4, 4, 3, 2, 2);
        var e = Assert.Throws<ArgumentException>(() => AvgPool2D.Forward(new float[48], new float[11], 1, g));
        Assert.Equal("y", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => AvgPool2D.Backward(new float[12], new float[47], 1, g));
        Assert.Equal("dx", e.ParamName);
    }
}
