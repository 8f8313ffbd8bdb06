namespace Kiln.Runtime.Cpu;

public static partial class Conv2D
{
    /// <summary>dw and db as <see cref="BackwardWeights(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, int, in ConvGeometry, Span{float})"/>, from a pooled (sparse) dz.</summary>
    public static void BackwardWeights(ReadOnlySpan<float> x, PooledGradient dz, Span<float> dw, Span<float> db, int batch, in ConvGeometry g, Span<float> scratch)
    {
        var dense = new float[batch * g.OutSize];
        dz.CopyTo(dense);
        BackwardWeights(x, dense, dw, db, batch, g, scratch);
    }

    /// <summary>dx as <see cref="BackwardData(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, in ConvGeometry, Span{float})"/>, from a pooled (sparse) dz.</summary>
    public static void BackwardData(PooledGradient dz, ReadOnlySpan<float> w, Span<float> dx, int batch, in ConvGeometry g, Span<float> scratch)
    {
        var dense = new float[batch * g.OutSize];
        dz.CopyTo(dense);
        BackwardData(dense, w, dx, batch, g, scratch);
    }
}
