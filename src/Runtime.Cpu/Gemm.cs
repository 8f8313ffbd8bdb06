using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu;

/// <summary>
/// Row-major single-precision matrix products, the one place the CPU runtime spends its speed. Dense and Conv2D
/// (through im2col) call nothing else for their heavy work.
/// </summary>
/// <remarks>
/// <para>Structure (the BLIS/GotoBLAS scheme): C is cut into <see cref="NC"/>-column blocks, K into <see cref="KC"/>
/// slices, A into <see cref="MC"/>-row blocks. Each K slice of B is packed into <see cref="NR"/>-wide panels and each
/// block of A into <see cref="MR"/>-tall panels, zero-padded at the edges, so one register-blocked micro-kernel reads
/// both operands with unit stride whatever the transposition. Transposes cost nothing beyond the packing.</para>
/// <para>Determinism: every C element is Σ over the K slices in ascending order, and within a slice one fused
/// multiply-add per k in ascending order. The scalar fallback uses <see cref="MathF.FusedMultiplyAdd"/> in the same
/// order, so both paths give the same bits. Single-threaded.</para>
/// </remarks>
public static class Gemm
{
    /// <summary>Rows of the micro-tile: 6 rows × 2 vectors = 12 accumulators, 2 B vectors and 1 broadcast fit 16 YMM registers.</summary>
    public const int MR = 6;

    /// <summary>Columns of the micro-tile (two <see cref="Vector256{T}"/> of floats).</summary>
    public const int NR = 16;

    /// <summary>K slice: an MR×KC panel of A and a KC×NR panel of B stay in L1 while a micro-tile is computed.</summary>
    public const int KC = 256;

    /// <summary>Rows of A packed at once (MC×KC floats, 120 KiB, meant for L2).</summary>
    public const int MC = 120;

    /// <summary>Columns of B packed at once (KC×NC floats, 1 MiB, meant for L2/L3).</summary>
    public const int NC = 1024;

    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float[]? t_packB;

    /// <summary>C[m×n] = A[m×k]·B[k×n] (or C += when <paramref name="accumulate"/>); a[i·lda + p], b[p·ldb + j], c[i·ldc + j].</summary>
    public static void Multiply(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false)
    {
        Validate(m, n, k, a.Length, lda, m, k, b.Length, ldb, k, n, c.Length, ldc);
        Run(m, n, k, a, lda, 1, b, ldb, 1, c, ldc, accumulate, Fma.IsSupported);
    }

    /// <summary>C[m×n] = Aᵀ·B where A is stored [k×m]: a[p·lda + i], b[p·ldb + j], c[i·ldc + j].</summary>
    public static void MultiplyTransposeA(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false)
    {
        Validate(m, n, k, a.Length, lda, k, m, b.Length, ldb, k, n, c.Length, ldc);
        Run(m, n, k, a, 1, lda, b, ldb, 1, c, ldc, accumulate, Fma.IsSupported);
    }

    /// <summary>C[m×n] = A·Bᵀ where B is stored [n×k]: a[i·lda + p], b[j·ldb + p], c[i·ldc + j].</summary>
    public static void MultiplyTransposeB(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false)
    {
        Validate(m, n, k, a.Length, lda, m, k, b.Length, ldb, n, k, c.Length, ldc);
        Run(m, n, k, a, lda, 1, b, 1, ldb, c, ldc, accumulate, Fma.IsSupported);
    }

    // Checks each operand as a stored rows×cols matrix with leading dimension ld.
    private static void Validate(int m, int n, int k, int aLength, int lda, int aRows, int aCols, int bLength, int ldb, int bRows, int bCols, int cLength, int ldc)
    {
        Check.NonNegative(m, nameof(m));
        Check.NonNegative(n, nameof(n));
        Check.NonNegative(k, nameof(k));
        Operand(aLength, lda, aRows, aCols, "a", nameof(lda));
        Operand(bLength, ldb, bRows, bCols, "b", nameof(ldb));
        Operand(cLength, ldc, m, n, "c", nameof(ldc));
    }

    private static void Operand(int length, int ld, int rows, int cols, string name, string ldName)
    {
        if (ld < Math.Max(cols, 1))
        {
            throw new ArgumentOutOfRangeException(ldName, ld, $"{ldName} must be at least {Math.Max(cols, 1)} (the stored row length of {name}).");
        }
        if (rows > 0 && cols > 0)
        {
            Check.AtLeast(length, (long)(rows - 1) * ld + cols, name);
        }
    }

    // Element (i, p) of A is a[i·aRow + p·aCol]; element (p, j) of B is b[p·bRow + j·bCol]. Unchecked: callers validate.
    // Tests pass vectorized: false to prove the scalar fallback gives the same bits.
    internal static unsafe void Run(int m, int n, int k, ReadOnlySpan<float> a, int aRow, int aCol, ReadOnlySpan<float> b, int bRow, int bCol, Span<float> c, int ldc, bool accumulate, bool vectorized)
    {
        if (m == 0 || n == 0)
        {
            return;
        }
        if (k == 0)
        {
            if (!accumulate)
            {
                for (var i = 0; i < m; i++)
                {
                    c.Slice(i * ldc, n).Clear();
                }
            }
            return;
        }

        var packA = t_packA ??= new float[MC * KC];
        var packB = t_packB ??= new float[KC * NC];
        // Edge tiles are spilled here. Allocated by the caller because a stackalloc inside the micro-kernel makes
        // RyuJIT spill all twelve accumulators to the stack on every k (measured: 2-3× slower).
        var tile = stackalloc float[MR * NR];
        fixed (float* pa = a, pb = b, pc = c, ap = packA, bp = packB)
        {
            for (var jc = 0; jc < n; jc += NC)
            {
                var nc = Math.Min(NC, n - jc);
                for (var pcol = 0; pcol < k; pcol += KC)
                {
                    var kc = Math.Min(KC, k - pcol);
                    // The first K slice overwrites C unless the caller accumulates; later slices add to it.
                    var overwrite = pcol == 0 && !accumulate;
                    PackB(pb + (long)pcol * bRow + (long)jc * bCol, bRow, bCol, kc, nc, bp);
                    for (var ic = 0; ic < m; ic += MC)
                    {
                        var mc = Math.Min(MC, m - ic);
                        PackA(pa + (long)ic * aRow + (long)pcol * aCol, aRow, aCol, mc, kc, ap);
                        for (var jr = 0; jr < nc; jr += NR)
                        {
                            var nr = Math.Min(NR, nc - jr);
                            for (var ir = 0; ir < mc; ir += MR)
                            {
                                var mr = Math.Min(MR, mc - ir);
                                var cTile = pc + (long)(ic + ir) * ldc + jc + jr;
                                if (vectorized)
                                {
                                    MicroKernelFma(kc, ap + ir * kc, bp + jr * kc, cTile, ldc, mr, nr, overwrite, tile);
                                }
                                else
                                {
                                    MicroKernelScalar(kc, ap + ir * kc, bp + jr * kc, cTile, ldc, mr, nr, overwrite, tile);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // Packs an mc×kc block of A into MR-row panels: panel r0 holds, for each p, the MR values A(r0..r0+MR-1, p).
    private static unsafe void PackA(float* a, int aRow, int aCol, int mc, int kc, float* dst)
    {
        for (var r0 = 0; r0 < mc; r0 += MR)
        {
            var rows = Math.Min(MR, mc - r0);
            for (var p = 0; p < kc; p++)
            {
                var src = a + (long)r0 * aRow + (long)p * aCol;
                var r = 0;
                for (; r < rows; r++)
                {
                    dst[r] = src[(long)r * aRow];
                }
                for (; r < MR; r++)
                {
                    dst[r] = 0f;
                }
                dst += MR;
            }
        }
    }

    // Packs a kc×nc block of B into NR-column panels: panel j0 holds, for each p, the NR values B(p, j0..j0+NR-1).
    private static unsafe void PackB(float* b, int bRow, int bCol, int kc, int nc, float* dst)
    {
        for (var j0 = 0; j0 < nc; j0 += NR)
        {
            var cols = Math.Min(NR, nc - j0);
            for (var p = 0; p < kc; p++)
            {
                var src = b + (long)p * bRow + (long)j0 * bCol;
                if (cols == NR && bCol == 1)
                {
                    Unsafe.CopyBlockUnaligned(dst, src, NR * sizeof(float));
                }
                else
                {
                    var j = 0;
                    for (; j < cols; j++)
                    {
                        dst[j] = src[(long)j * bCol];
                    }
                    for (; j < NR; j++)
                    {
                        dst[j] = 0f;
                    }
                }
                dst += NR;
            }
        }
    }

    // One MR×NR tile of C from packed panels: 12 YMM accumulators, one broadcast of A and two loads of B per k.
    // Edge tiles go through the caller's MR×NR scratch `tile`.
    private static unsafe void MicroKernelFma(int kc, float* a, float* b, float* c, int ldc, int mr, int nr, bool overwrite, float* tile)
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

        if (mr == MR && nr == NR)
        {
            StoreRow(c, c00, c01, overwrite);
            StoreRow(c + ldc, c10, c11, overwrite);
            StoreRow(c + 2L * ldc, c20, c21, overwrite);
            StoreRow(c + 3L * ldc, c30, c31, overwrite);
            StoreRow(c + 4L * ldc, c40, c41, overwrite);
            StoreRow(c + 5L * ldc, c50, c51, overwrite);
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
        StorePartial(tile, c, ldc, mr, nr, overwrite);
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

    // Same arithmetic as MicroKernelFma, one element at a time, for CPUs without AVX2/FMA.
    private static unsafe void MicroKernelScalar(int kc, float* a, float* b, float* c, int ldc, int mr, int nr, bool overwrite, float* tile)
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
        StorePartial(tile, c, ldc, mr, nr, overwrite);
    }

    // Not inlined: keeps the edge copy loop out of the micro-kernel's register allocation.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe void StorePartial(float* tile, float* c, int ldc, int mr, int nr, bool overwrite)
    {
        for (var r = 0; r < mr; r++)
        {
            var dst = c + (long)r * ldc;
            var src = tile + r * NR;
            for (var j = 0; j < nr; j++)
            {
                dst[j] = overwrite ? src[j] : dst[j] + src[j];
            }
        }
    }
}
