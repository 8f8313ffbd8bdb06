using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu;

public static partial class Gemm
{
    // One MR×NR tile of C from packed panels: 12 YMM accumulators, one broadcast of A and two loads of B per k.
    // With a bias (only on the last K slice) the tile is stored as max?(C + acc + bias, 0). Edge tiles go through the
    // caller's MR×NR scratch `tile`.
    internal static unsafe void MicroKernelFma(int kc, float* a, float* b, float* c, int ldc, int mr, int nr, bool overwrite, float* bias, bool relu, float* tile)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Avx.LoadVector256(b);
            var b1 = Avx.LoadVector256(b + 8);
            var x = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(x, b0, c00);
            c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = Fma.MultiplyAdd(x, b0, c10);
            c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = Fma.MultiplyAdd(x, b0, c20);
            c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = Fma.MultiplyAdd(x, b0, c30);
            c31 = Fma.MultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]);
            c40 = Fma.MultiplyAdd(x, b0, c40);
            c41 = Fma.MultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]);
            c50 = Fma.MultiplyAdd(x, b0, c50);
            c51 = Fma.MultiplyAdd(x, b1, c51);
            a += MR;
            b += NR;
        }
        StoreTile(c, ldc, mr, nr, overwrite, bias, relu, tile, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }

    // Writes the twelve accumulators of a tile to C (whole tiles directly, edge tiles through `tile`).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void StoreTile(float* c, int ldc, int mr, int nr, bool overwrite, float* bias, bool relu, float* tile,
        Vector256<float> c00, Vector256<float> c01, Vector256<float> c10, Vector256<float> c11, Vector256<float> c20, Vector256<float> c21,
        Vector256<float> c30, Vector256<float> c31, Vector256<float> c40, Vector256<float> c41, Vector256<float> c50, Vector256<float> c51)
    {
        if (mr == MR && nr == NR)
        {
            if (bias == null)
            {
                StoreRow(c, c00, c01, overwrite);
                StoreRow(c + ldc, c10, c11, overwrite);
                StoreRow(c + 2L * ldc, c20, c21, overwrite);
                StoreRow(c + 3L * ldc, c30, c31, overwrite);
                StoreRow(c + 4L * ldc, c40, c41, overwrite);
                StoreRow(c + 5L * ldc, c50, c51, overwrite);
            }
            else
            {
                var bias0 = Avx.LoadVector256(bias);
                var bias1 = Avx.LoadVector256(bias + 8);
                StoreRow(c, c00, c01, overwrite, bias0, bias1, relu);
                StoreRow(c + ldc, c10, c11, overwrite, bias0, bias1, relu);
                StoreRow(c + 2L * ldc, c20, c21, overwrite, bias0, bias1, relu);
                StoreRow(c + 3L * ldc, c30, c31, overwrite, bias0, bias1, relu);
                StoreRow(c + 4L * ldc, c40, c41, overwrite, bias0, bias1, relu);
                StoreRow(c + 5L * ldc, c50, c51, overwrite, bias0, bias1, relu);
            }
            return;
        }

        // Edge tile: store whole, then copy only the valid part.
        Avx.Store(tile, c00);
        Avx.Store(tile + 8, c01);
        Avx.Store(tile + 16, c10);
        Avx.Store(tile + 24, c11);
        Avx.Store(tile + 32, c20);
        Avx.Store(tile + 40, c21);
        Avx.Store(tile + 48, c30);
        Avx.Store(tile + 56, c31);
        Avx.Store(tile + 64, c40);
        Avx.Store(tile + 72, c41);
        Avx.Store(tile + 80, c50);
        Avx.Store(tile + 88, c51);
        StorePartial(tile, c, ldc, mr, nr, overwrite, bias, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow(float* c, Vector256<float> lo, Vector256<float> hi, bool overwrite)
    {
        if (!overwrite)
        {
            lo = Avx.Add(Avx.LoadVector256(c), lo);
            hi = Avx.Add(Avx.LoadVector256(c + 8), hi);
        }
        Avx.Store(c, lo);
        Avx.Store(c + 8, hi);
    }

    // The same sums, then + bias and, for relu, max(·, 0) (which maps NaN and −0 to +0, as the scalar relu does).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow(float* c, Vector256<float> lo, Vector256<float> hi, bool overwrite, Vector256<float> bias0, Vector256<float> bias1, bool relu)
    {
        if (!overwrite)
        {
            lo = Avx.Add(Avx.LoadVector256(c), lo);
            hi = Avx.Add(Avx.LoadVector256(c + 8), hi);
        }
        lo = Avx.Add(lo, bias0);
        hi = Avx.Add(hi, bias1);
        if (relu)
        {
            lo = Avx.Max(lo, Vector256<float>.Zero);
            hi = Avx.Max(hi, Vector256<float>.Zero);
        }
        Avx.Store(c, lo);
        Avx.Store(c + 8, hi);
    }

    // Same arithmetic as MicroKernelFma, one element at a time, for CPUs without AVX2/FMA.
    private static unsafe void MicroKernelScalar(int kc, float* a, float* b, float* c, int ldc, int mr, int nr, bool overwrite, float* bias, bool relu, float* tile)
    {
        new Span<float>(tile, MR * NR).Clear();
        for (var p = 0; p < kc; p++)
        {
            for (var r = 0; r < MR; r++)
            {
                var x = a[r];
                var row = tile + r * NR;
                for (var j = 0; j < NR; j++)
                {
                    row[j] = MathF.FusedMultiplyAdd(x, b[j], row[j]);
                }
            }
            a += MR;
            b += NR;
        }
        StorePartial(tile, c, ldc, mr, nr, overwrite, bias, relu);
    }

    // Not inlined: keeps the edge copy loop out of the micro-kernel's register allocation.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe void StorePartial(float* tile, float* c, int ldc, int mr, int nr, bool overwrite, float* bias, bool relu)
    {
        if (nr == NR && Avx.IsSupported)
        {
            // Only rows missing (the last rows of C): whole rows with the vector stores, same arithmetic.
            for (var r = 0; r < mr; r++)
            {
                var (lo, hi) = (Avx.LoadVector256(tile + r * NR), Avx.LoadVector256(tile + r * NR + 8));
                if (bias == null)
                {
                    StoreRow(c + (long)r * ldc, lo, hi, overwrite);
                }
                else
                {
                    StoreRow(c + (long)r * ldc, lo, hi, overwrite, Avx.LoadVector256(bias), Avx.LoadVector256(bias + 8), relu);
                }
            }
            return;
        }
        for (var r = 0; r < mr; r++)
        {
            var dst = c + (long)r * ldc;
            var src = tile + r * NR;
            for (var j = 0; j < nr; j++)
            {
                dst[j] = overwrite ? src[j] : dst[j] + src[j];
            }
            if (bias != null)
            {
                ApplyBias(new Span<float>(dst, nr), bias, relu);
            }
        }
    }
}
