using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu;

public static partial class Gemm
{
    // Products this small (Iris-sized layers) skip the blocked path: its packing and edge tiles cost more than the math.
    private const long SmallMacs = 1 << 15;
    private const int SmallPackedFloats = 4096;

    private static bool IsSmall(int m, int n, int k) =>
        (long)m * n * k <= SmallMacs && k <= KC && (long)k * RoundUp8(n) <= SmallPackedFloats;

    private static int RoundUp8(int n) => (n + 7) & ~7;

    // Same arithmetic as the blocked path for k ≤ KC (each element: 0, then one fused multiply-add per p in ascending
    // order, then the store and epilogue), so the two give the same bits. B is copied into 8-column rows first.
    [SkipLocalsInit]
    private static unsafe void Small(in Job j)
    {
        var width = RoundUp8(j.N);
        var packed = stackalloc float[j.K * width];
        for (var p = 0; p < j.K; p++)
        {
            var row = new Span<float>(packed + p * width, width);
            var src = j.B + (long)p * j.BRow;
            if (j.BCol == 1)
            {
                new ReadOnlySpan<float>(src, j.N).CopyTo(row);
            }
            else
            {
                for (var col = 0; col < j.N; col++)
                {
                    row[col] = src[(long)col * j.BCol];
                }
            }
            row[j.N..].Clear();
        }
        // Four rows by sixteen columns at a time: eight independent fused multiply-add chains hide the FMA latency.
        // Rows past the end repeat the last one and are not stored; columns past the edge are masked.
        for (var i0 = 0; i0 < j.M; i0 += 4)
        {
            var a0 = j.A + (long)i0 * j.ARow;
            var a1 = j.A + (long)Math.Min(i0 + 1, j.M - 1) * j.ARow;
            var a2 = j.A + (long)Math.Min(i0 + 2, j.M - 1) * j.ARow;
            var a3 = j.A + (long)Math.Min(i0 + 3, j.M - 1) * j.ARow;
            var rows = Math.Min(4, j.M - i0);
            for (var j0 = 0; j0 < j.N; j0 += 16)
            {
                Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
                Vector256<float> d0 = default, d1 = default, d2 = default, d3 = default;
                var b = packed + j0;
                var two = j0 + 8 < j.N;
                for (long p = 0, at = 0; p < j.K; p++, at += j.ACol, b += width)
                {
                    var bv = Avx.LoadVector256(b);
                    var x0 = Vector256.Create(a0[at]);
                    var x1 = Vector256.Create(a1[at]);
                    var x2 = Vector256.Create(a2[at]);
                    var x3 = Vector256.Create(a3[at]);
                    c0 = Fma.MultiplyAdd(x0, bv, c0);
                    c1 = Fma.MultiplyAdd(x1, bv, c1);
                    c2 = Fma.MultiplyAdd(x2, bv, c2);
                    c3 = Fma.MultiplyAdd(x3, bv, c3);
                    if (two)
                    {
                        bv = Avx.LoadVector256(b + 8);
                        d0 = Fma.MultiplyAdd(x0, bv, d0);
                        d1 = Fma.MultiplyAdd(x1, bv, d1);
                        d2 = Fma.MultiplyAdd(x2, bv, d2);
                        d3 = Fma.MultiplyAdd(x3, bv, d3);
                    }
                }
                var c = j.C + (long)i0 * j.Ldc + j0;
                SmallStore(j, c, j0, rows, c0, c1, c2, c3);
                if (two)
                {
                    SmallStore(j, c + 8, j0 + 8, rows, d0, d1, d2, d3);
                }
            }
        }
    }

    // Columns j0 .. j0+7 (fewer at the right edge) of up to four rows starting at c.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void SmallStore(in Job j, float* c, int j0, int rows, Vector256<float> c0, Vector256<float> c1, Vector256<float> c2, Vector256<float> c3)
    {
        // Lanes past the right edge are masked off, never loaded or stored.
        var count = Math.Min(8, j.N - j0);
        var mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle();
        var bias = j.Bias == null ? Vector256<float>.Zero : Avx.MaskLoad(j.Bias + j0, mask);
        SmallStore(j, c, count, mask, bias, c0);
        if (rows > 1)
        {
            SmallStore(j, c + j.Ldc, count, mask, bias, c1);
        }
        if (rows > 2)
        {
            SmallStore(j, c + 2L * j.Ldc, count, mask, bias, c2);
        }
        if (rows > 3)
        {
            SmallStore(j, c + 3L * j.Ldc, count, mask, bias, c3);
        }
    }

    // Up to eight columns of one row: C (+)= acc, then + bias and relu when there is a bias, as StoreTile does.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void SmallStore(in Job j, float* c, int count, Vector256<float> mask, Vector256<float> bias, Vector256<float> acc)
    {
        var full = count == 8;
        var v = j.Accumulate ? Avx.Add(full ? Avx.LoadVector256(c) : Avx.MaskLoad(c, mask), acc) : acc;
        if (j.Bias != null)
        {
            v = Avx.Add(v, bias);
            v = j.Relu ? Avx.Max(v, Vector256<float>.Zero) : v;
        }
        if (full)
        {
            Avx.Store(c, v);
            return;
        }
        // A masked store is slow on some CPUs (AMD Zen): copy the valid lanes one by one.
        for (var col = 0; col < count; col++)
        {
            c[col] = v.GetElement(col);
        }
    }
}
