namespace Kiln.Runtime.Cpu.Tests;

public class GlobalPool2DTests
{
    // (batch, H·W, channels): odd pixel counts (7×7, 3×5, 1×1), channels not a multiple of 8 and one over the 256 block.
    public static TheoryData<int, int, int> Shapes() => new()
    {
        { 3, 7 * 7, 13 },
        { 1, 3 * 5, 8 },
        { 2, 1, 5 },
        { 3, 2 * 2, 300 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Average_ForwardAndBackward(int batch, int pixels, int channels)
    {
        var x = TestData.Random(batch * pixels * channels, seed: 61);
        var y = TestData.Poisoned(batch * channels);
        GlobalPool2D.AverageForward(x, y, batch, pixels, channels);
        Approx.Equal(PoolReference.GlobalAverage(TestData.ToDouble(x), batch, pixels, channels), y, "global average");

        var r = TestData.ToDouble(TestData.Random(y.Length, seed: 62));
        var dx = TestData.Poisoned(x.Length);
        GlobalPool2D.AverageBackward(r.Select(v => (float)v).ToArray(), dx, batch, pixels, channels);
        var expected = FiniteDifference.Gradient(v => TestData.Dot(r, PoolReference.GlobalAverage(v, batch, pixels, channels)), TestData.ToDouble(x));
        Approx.Equal(expected, dx, "global average dx", Approx.FdAtol, Approx.FdRtol);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Max_ForwardAndBackward(int batch, int pixels, int channels)
    {
        var x = TestData.Random(batch * pixels * channels, seed: 63);
        var (y, argmax) = (TestData.Poisoned(batch * channels), new int[batch * channels]);
        GlobalPool2D.MaxForward(x, y, argmax, batch, pixels, channels);
        var (ry, rArgmax) = PoolReference.GlobalMax(TestData.ToDouble(x), batch, pixels, channels);
        Approx.Equal(ry, y, "global max", 0, 0);
        Assert.Equal(rArgmax, argmax);

        var r = TestData.ToDouble(TestData.Random(y.Length, seed: 64));
        var dx = TestData.Poisoned(x.Length);
        GlobalPool2D.MaxBackward(r.Select(v => (float)v).ToArray(), argmax, dx, batch, pixels, channels);
        var expected = FiniteDifference.Gradient(v => TestData.Dot(r, PoolReference.GlobalMax(v, batch, pixels, channels).Y), TestData.ToDouble(x), h: 1e-6);
        Approx.Equal(expected, dx, "global max dx", Approx.FdAtol, Approx.FdRtol);
    }

    [Fact]
    public void Max_TiesGoToTheFirstPixel_AndInferenceSkipsArgmax()
    {
        // Channel 0: 2, 5, 5 → the first 5 (pixel 1, index 1·2 + 0); channel 1: −1, −1, −3 → pixel 0.
        float[] x = [2, -1, 5, -1, 5, -3];
        var (y, argmax) = (TestData.Poisoned(2), new int[2]);
        GlobalPool2D.MaxForward(x, y, argmax, 1, 3, 2);
        Assert.Equal([2, 1], argmax);
        Approx.Equal([5, -1], y, "max", 0, 0);
        var y2 = TestData.Poisoned(2);
        GlobalPool2D.MaxForward(x, y2, default, 1, 3, 2);
        TestData.BitwiseEqual(y, y2, "without argmax");
    }

    [Fact]
    public void BadArguments_AreRefusedByName()
    {
        var e = Assert.Throws<ArgumentException>(() => GlobalPool2D.AverageForward(new float[12], new float[5], 2, 3, 2));
        Assert.Equal("y", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => GlobalPool2D.MaxBackward(new float[2], [1, 4], new float[6], 1, 3, 2));
        Assert.Equal("argmax", e.ParamName); // 4 is channel 0's index, given for channel 1
    }
}
