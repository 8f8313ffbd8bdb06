namespace Kiln.Runtime.Cpu.Tests;

public class MaxPool2DTests
{
    public static TheoryData<string, int> Cases() => new()
    {
        { "valid 9x11x3 p2 s2", 2 },
        { "same 9x11x3 p3 s2", 3 },
        { "same 7x6x2 p2 s1", 1 },
        { "valid 8x8x5 p3 s3", 2 },
    };

    private static PoolGeometry Geometry(string name) => name switch
    {
        "valid 9x11x3 p2 s2" => Geometries.PoolValid(9, 11, 3, 2, 2),
        "same 9x11x3 p3 s2" => Geometries.PoolSame(9, 11, 3, 3, 2),
        "same 7x6x2 p2 s1" => Geometries.PoolSame(7, 6, 2, 2, 1),
        "valid 8x8x5 p3 s3" => Geometries.PoolValid(8, 8, 5, 3, 3),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_MatchesReference(string name, int batch)
    {
        var g = Geometry(name);
        var x = TestData.Random(batch * g.InSize, seed: 31);
        var y = TestData.Poisoned(batch * g.OutSize);
        var argmax = new int[y.Length];
        MaxPool2D.Forward(x, y, argmax, batch, g);
        var (ry, rArgmax) = MaxPool2DReference.Forward(TestData.ToDouble(x), batch, g);
        Approx.Equal(ry, y, $"pool {name}", 0, 0);
        Assert.Equal(rArgmax, argmax);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_MatchesFiniteDifferences(string name, int batch)
    {
        // L = Σ r·maxpool(x); the random inputs have distinct values more than 2h apart almost surely, so L is smooth there.
        var g = Geometry(name);
        var x = TestData.Random(batch * g.InSize, seed: 33);
        var r = TestData.ToDouble(TestData.Random(batch * g.OutSize, seed: 34));
        var y = new float[r.Length];
        var argmax = new int[r.Length];
        MaxPool2D.Forward(x, y, argmax, batch, g);
        var dx = TestData.Poisoned(x.Length);
        MaxPool2D.Backward(r.Select(v => (float)v).ToArray(), argmax, dx, batch, g);
        var expected = FiniteDifference.Gradient(v => TestData.Dot(r, MaxPool2DReference.Forward(v, batch, g).Y), TestData.ToDouble(x), h: 1e-6);
        Approx.Equal(expected, dx, $"pool dx {name}", Approx.FdAtol, Approx.FdRtol);
    }

    [Fact]
    public void OverlappingWindows_AccumulateIntoTheSharedInput()
    {
        // 1×3 input [1, 5, 2], pool 2 stride 1 → both windows pick x[1]; dx[1] = dy0 + dy1.
        var g = new PoolGeometry(1, 3, 1, 1, 2, 2, 1, 0, 0);
        float[] x = [1, 5, 2];
        var y = new float[2];
        var argmax = new int[2];
        MaxPool2D.Forward(x, y, argmax, 1, g);
        Assert.Equal([1, 1], argmax);
        var dx = TestData.Poisoned(3);
        MaxPool2D.Backward([0.25f, 0.5f], argmax, dx, 1, g);
        Assert.Equal([0f, 0.75f, 0f], dx);
    }

    [Fact]
    public void Ties_GoToTheFirstMaximumInRowMajorWindowOrder()
    {
        // A constant image: every window is all ties, so each picks its top-left in-image cell.
        var g = Geometries.PoolSame(5, 5, 2, 3, 2);
        var x = Enumerable.Repeat(0.5f, g.InSize).ToArray();
        var y = new float[g.OutSize];
        var argmax = new int[g.OutSize];
        MaxPool2D.Forward(x, y, argmax, 1, g);
        for (var oh = 0; oh < g.OutH; oh++)
        for (var ow = 0; ow < g.OutW; ow++)
        for (var c = 0; c < 2; c++)
        {
            var ih = Math.Max(oh * g.Stride - g.PadTop, 0);
            var iw = Math.Max(ow * g.Stride - g.PadLeft, 0);
            Assert.Equal((ih * g.InW + iw) * 2 + c, argmax[(oh * g.OutW + ow) * 2 + c]);
        }

        // Two equal maxima in one 2×2 window at (0,1) and (1,0): the first in row-major order, (0,1), wins.
        var two = new PoolGeometry(2, 2, 1, 1, 1, 2, 2, 0, 0);
        MaxPool2D.Forward([0f, 3f, 3f, 1f], y.AsSpan(0, 1), argmax.AsSpan(0, 1), 1, two);
        Assert.Equal(1, argmax[0]);
    }

    [Fact]
    public void PaddedCells_AreNeverSelected()
    {
        // All inputs negative: a zero-padded cell would win every border window if padding were considered.
        var g = Geometries.PoolSame(9, 11, 3, 3, 2);
        Assert.True(g.PadTop > 0 && g.PadLeft > 0);
        var x = TestData.Random(g.InSize, seed: 35).Select(v => -Math.Abs(v)).ToArray();
        var y = new float[g.OutSize];
        var argmax = new int[g.OutSize];
        MaxPool2D.Forward(x, y, argmax, 1, g);
        for (var i = 0; i < y.Length; i++)
        {
            Assert.True(y[i] < 0, $"y[{i}] = {y[i]}");
            Assert.InRange(argmax[i], 0, g.InSize - 1);
            Assert.Equal(x[argmax[i]], y[i]);
        }
    }

    [Fact]
    public void WindowWhollyInPadding_GivesZeroAndNoGradient()
    {
        // 1×1 pool, stride 2 over 3 rows with OutH 3: the last window starts at row 4, outside the 3-row image.
        var g = new PoolGeometry(3, 1, 1, 3, 1, 1, 2, 0, 0);
        var y = TestData.Poisoned(3);
        var argmax = new int[3];
        MaxPool2D.Forward([-1f, -2f, -3f], y, argmax, 1, g);
        Assert.Equal([-1f, -3f, 0f], y);
        Assert.Equal([0, 2, -1], argmax);
        var dx = TestData.Poisoned(3);
        MaxPool2D.Backward([1f, 2f, 4f], argmax, dx, 1, g);
        Assert.Equal([1f, 0f, 2f], dx);
    }

    [Fact]
    public void SameInputs_SameBits()
    {
        var g = Geometries.PoolSame(9, 11, 3, 3, 2);
        var x = TestData.Random(2 * g.InSize, seed: 36);
        var dy = TestData.Random(2 * g.OutSize, seed: 37);
        float[] y = new float[dy.Length], dx1 = new float[x.Length], dx2 = new float[x.Length];
        var argmax = new int[dy.Length];
        MaxPool2D.Forward(x, y, argmax, 2, g);
        MaxPool2D.Backward(dy, argmax, dx1, 2, g);
        MaxPool2D.Backward(dy, argmax, dx2, 2, g);
        TestData.BitwiseEqual(dx1, dx2, "dx");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void RaggedChannels_VectorAndTailLanes_MatchReference(int batch)
    {
        // 19 channels: two eight-lane vectors and three scalar lanes; "same" 2×2 and 3×3 windows with padded borders;
        // quantised inputs so that ties are frequent and the first-maximum rule is exercised.
        foreach (var g in new[] { Geometries.PoolSame(7, 9, 19, 2, 2), Geometries.PoolSame(9, 8, 19, 3, 2), Geometries.PoolValid(6, 6, 16, 2, 2) })
        {
            AssertMatchesReferenceWithTies(g, batch, seed: 37);
        }
    }

    /// <summary>
    /// Channels a multiple of eight take the path for unclipped windows (fixed cell offsets) next to the general one for
    /// clipped windows; both must follow the reference's values and first-maximum indices.
    /// </summary>
    [Theory]
    [InlineData("valid", 8, 8, 16, 2, 2)]
    [InlineData("valid", 9, 9, 8, 3, 3)]
    [InlineData("valid", 7, 8, 8, 2, 1)]
    [InlineData("valid", 5, 5, 8, 1, 1)]
    [InlineData("same", 9, 11, 16, 3, 2)]
    [InlineData("same", 7, 9, 8, 2, 2)]
    [InlineData("same", 6, 7, 24, 2, 1)]
    [InlineData("same", 1, 1, 8, 3, 1)]
    public void WholeVectorChannels_MatchReference(string padding, int h, int w, int c, int pool, int stride)
    {
        var g = padding == "same" ? Geometries.PoolSame(h, w, c, pool, stride) : Geometries.PoolValid(h, w, c, pool, stride);
        AssertMatchesReferenceWithTies(g, batch: 3, seed: 38);
    }

    // Quantised inputs, so ties are frequent and the first-maximum rule is exercised in every cell position.
    private static void AssertMatchesReferenceWithTies(PoolGeometry g, int batch, int seed)
    {
        var x = TestData.Random(batch * g.InSize, seed).Select(v => MathF.Round(v * 4) / 4).ToArray();
        var y = TestData.Poisoned(batch * g.OutSize);
        var argmax = new int[y.Length];
        MaxPool2D.Forward(x, y, argmax, batch, g);
        var (ry, rArgmax) = MaxPool2DReference.Forward(TestData.ToDouble(x), batch, g);
        Approx.Equal(ry, y, $"pool {g}", 0, 0);
        Assert.Equal(rArgmax, argmax);

        // Without argmax (inference), the same outputs; and the wrong length is refused by name.
        var inferred = TestData.Poisoned(y.Length);
        MaxPool2D.Forward(x, inferred, default, batch, g);
        TestData.BitwiseEqual(y, inferred, $"pool {g} without argmax");
        var e = Assert.Throws<ArgumentException>(() => MaxPool2D.Forward(x, inferred, new int[y.Length - 1], batch, g));
        Assert.Equal("argmax", e.ParamName);
    }
}
