namespace Kiln.Runtime.Cpu.Tests;

public class InitTests
{
    [Fact]
    public void GlorotUniform_HasTheKerasLimitAndVariance()
    {
        // fanIn 75 (5·5·3), fanOut 400 (5·5·16): l = √(6/475) ≈ 0.11239; U(−l, l) has mean 0 and variance l²/3.
        var w = new float[100_000];
        var rng = new Rng(1);
        Init.GlorotUniform(w, 75, 400, ref rng);
        var limit = Math.Sqrt(6.0 / 475);
        Assert.All(w, v => Assert.InRange(v, -limit, limit));
        var mean = w.Average(v => (double)v);
        var variance = w.Average(v => ((double)v - mean) * ((double)v - mean));
        Assert.InRange(mean, -0.002, 0.002);
        Assert.InRange(variance, limit * limit / 3 * 0.98, limit * limit / 3 * 1.02);
        Assert.True(w.Max() > 0.99 * limit && w.Min() < -0.99 * limit);
    }

    [Fact]
    public void GlorotUniform_IsReproducibleAndAdvancesTheGenerator()
    {
        float[] a = new float[10], b = new float[10], c = new float[10];
        var r1 = new Rng(5);
        var r2 = new Rng(5);
        Init.GlorotUniform(a, 3, 4, ref r1);
        Init.GlorotUniform(b, 3, 4, ref r2);
        Init.GlorotUniform(c, 3, 4, ref r2);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }
}
