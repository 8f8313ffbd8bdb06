namespace Kiln.Runtime.Cpu.Tests;

/// <summary>Keras padding arithmetic for the tests: valid, and same (out = ceil(in/stride), extra padding at the end).</summary>
internal static class Geometries
{
    public static ConvGeometry ConvValid(int inH, int inW, int inC, int outC, int k, int s) =>
        new(inH, inW, inC, (inH - k) / s + 1, (inW - k) / s + 1, outC, k, s, 0, 0);

    public static ConvGeometry ConvSame(int inH, int inW, int inC, int outC, int k, int s)
    {
        var (outH, top) = Same(inH, k, s);
        var (outW, left) = Same(inW, k, s);
        return new(inH, inW, inC, outH, outW, outC, k, s, top, left);
    }

    public static PoolGeometry PoolValid(int inH, int inW, int c, int pool, int s) =>
        new(inH, inW, c, (inH - pool) / s + 1, (inW - pool) / s + 1, pool, s, 0, 0);

    public static PoolGeometry PoolSame(int inH, int inW, int c, int pool, int s)
    {
        var (outH, top) = Same(inH, pool, s);
        var (outW, left) = Same(inW, pool, s);
        return new(inH, inW, c, outH, outW, pool, s, top, left);
    }

    private static (int Out, int Before) Same(int size, int k, int s)
    {
        var output = (size + s - 1) / s;
        var total = Math.Max((output - 1) * s + k - size, 0);
        return (output, total / 2);
    }
}
