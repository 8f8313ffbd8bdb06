using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu;

public static partial class Gemm
{
    // Per thread, so that parts running at once never share packing space.
    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float[]? t_packB;

    /// <summary>Floats past a packed panel that a packer may write or read with one vector.</summary>
    internal const int PackSlack = 8;

    /// <summary>This thread's packing space for A (MC×KC floats) and B (KC×NC floats), each with <see cref="PackSlack"/> to spare.</summary>
    internal static (float[] A, float[] B) PackBuffers() => (t_packA ??= new float[MC * KC + PackSlack], t_packB ??= new float[KC * NC + PackSlack]);

    /// <summary>The FMA micro-kernel on packed panels with no epilogue, or its scalar twin without AVX2/FMA.</summary>
    internal static unsafe void MicroKernel(int kc, float* a, float* b, float* c, int ldc, int mr, int nr, bool overwrite, float* tile)
    {
        if (Fma.IsSupported)
        {
            MicroKernelFma(kc, a, b, c, ldc, mr, nr, overwrite, null, false, tile);
        }
        else
        {
            MicroKernelScalar(kc, a, b, c, ldc, mr, nr, overwrite, null, false, tile);
        }
    }

    // The block rows [i0, i1) × columns [j0, j1) of C, through the BLIS loops.
    private static unsafe void Blocked(in Job job, int i0, int i1, int j0, int j1)
    {
        if (i0 >= i1 || j0 >= j1)
        {
            return;
        }
        var (packA, packB) = PackBuffers();
        // Edge tiles are spilled here. Allocated by the caller because a stackalloc inside the micro-kernel makes
        // RyuJIT spill all twelve accumulators to the stack on every k (measured: 2-3× slower).
        var tile = stackalloc float[MR * NR];
        var k = job.K;
        fixed (float* ap = packA, bp = packB)
        {
            for (var jc = j0; jc < j1; jc += NC)
            {
                var nc = Math.Min(NC, j1 - jc);
                for (var pcol = 0; pcol < k; pcol += KC)
                {
                    var kc = Math.Min(KC, k - pcol);
                    // The first K slice overwrites C unless the caller accumulates; later slices add to it; the last one
                    // applies the epilogue.
                    var overwrite = pcol == 0 && !job.Accumulate;
                    var bias = pcol + kc == k ? job.Bias : null;
                    PackB(job.B + (long)pcol * job.BRow + (long)jc * job.BCol, job.BRow, job.BCol, kc, nc, bp);
                    for (var ic = i0; ic < i1; ic += MC)
                    {
                        var mc = Math.Min(MC, i1 - ic);
                        PackA(job.A + (long)ic * job.ARow + (long)pcol * job.ACol, job.ARow, job.ACol, mc, kc, ap);
                        for (var jr = 0; jr < nc; jr += NR)
                        {
                            var nr = Math.Min(NR, nc - jr);
                            var tileBias = bias == null ? null : bias + jc + jr;
                            for (var ir = 0; ir < mc; ir += MR)
                            {
                                var mr = Math.Min(MR, mc - ir);
                                var cTile = job.C + (long)(ic + ir) * job.Ldc + jc + jr;
                                if (job.Vectorized)
                                {
                                    MicroKernelFma(kc, ap + ir * kc, bp + jr * kc, cTile, job.Ldc, mr, nr, overwrite, tileBias, job.Relu, tile);
                                }
                                else
                                {
                                    MicroKernelScalar(kc, ap + ir * kc, bp + jr * kc, cTile, job.Ldc, mr, nr, overwrite, tileBias, job.Relu, tile);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // Packs an mc×kc block of A into MR-row panels: panel r0 holds, for each p, the MR values A(r0..r0+MR-1, p).
    internal static unsafe void PackA(float* a, int aRow, int aCol, int mc, int kc, float* dst)
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
    internal static unsafe void PackB(float* b, int bRow, int bCol, int kc, int nc, float* dst)
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
}
