namespace Kiln.Runtime.Cpu.Tests;

public class RescalingTests
{
    [Theory]
    [InlineData(1f / 255, 0f)]
    [InlineData(1f / 127.5f, -1f)]
    [InlineData(-3f, 0.25f)]
    public void ForwardAndBackward_MatchReference(float scale, float offset)
    {
        var x = TestData.Random(3 * 7 * 5, seed: 71, scale: 255f);
        var y = TestData.Poisoned(x.Length);
        Rescaling.Forward(x, y, scale, offset);
        Approx.Equal(x.Select(v => (double)v * scale + offset).ToArray(), y, "rescaling");

        var r = TestData.ToDouble(TestData.Random(x.Length, seed: 72));
        var dx = TestData.Poisoned(x.Length);
        Rescaling.Backward(r.Select(v => (float)v).ToArray(), dx, scale);
        var expected = FiniteDifference.Gradient(v => TestData.Dot(r, v.Select(e => e * scale + offset).ToArray()), TestData.ToDouble(x));
        Approx.Equal(expected, dx, "rescaling dx", Approx.FdAtol, Approx.FdRtol);
    }

    [Fact]
    public void WrongLength_IsRefusedByName()
    {
        var e = Assert.Throws<ArgumentException>(() => Rescaling.Forward(new float[3], new float[2], 1f, 0f));
        Assert.Equal("y", e.ParamName);
    }
}
