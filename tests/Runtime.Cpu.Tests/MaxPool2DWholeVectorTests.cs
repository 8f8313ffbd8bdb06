using Kiln.Runtime.Cpu.Tests.Reference;

namespace Kiln.Runtime.Cpu.Tests;

/// <summary>
/// Channels a multiple of eight take MaxPool2D.Forward's path for unclipped windows (runs of fixed cell offsets) next to
/// the general one for clipped windows; both must follow the reference's values and first-maximum indices.
/// </summary>
public class MaxPool2DWholeVectorTests
{
    [Theory]
    [InlineData("valid", 8, 8, 16, 2, 2)]
    [InlineData("valid", 9, 9, 8, 3, 3)]
    [InlineData("valid", 7, 8, 8, 2, 1)]
    [InlineData("valid", 5, 5, 8, 1, 1)]
    [InlineData("same", 9, 11, 16, 3, 2)]
    [InlineData("same", 7, 9, 8, 2, 2)]
    [InlineData("same", 6, 7, 24, 2, 1)]
    [InlineData("same", 1, 1, 8, 3, 1)]
    public void Forward_MatchesReference(string padding, int h, int w, int c, int pool, int stride)
    {
        // Quantised inputs: ties are frequent, so the first-maximum rule is exercised in every cell position.
        const int batch = 3;
        var g = padding == "same" ? Geometries.PoolSame(h, w, c, pool, stride) : Geometries.PoolValid(h, w, c, pool, stride);
        var x = TestData.Random(batch * g.InSize, seed: 38).Select(v => MathF.Round(v * 2) / 2).ToArray();
        var y = TestData.Poisoned(batch * g.OutSize);
        var argmax = new int[y.Length];
        MaxPool2D.Forward(x, y, argmax, batch, g);
        var (ry, rArgmax) = MaxPool2DReference.Forward(TestData.ToDouble(x), batch, g);
        Approx.Equal(ry, y, $"pool {g}", 0, 0);
        Assert.Equal(rArgmax, argmax);
    }
}
