using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu;

public static partial class Gemm
{
    private const int SkinnyColumns = 32;

    // Whole blocks of this many columns take the unmasked path: each row of B is four whole cache lines.
    private const int WideColumns = 64;

    // Fewer rows than a micro-tile (one-image inference) with B stored row-major: stream B once per row instead of
    // packing it for a mostly empty 6-row tile.
    private static bool IsSkinny(int m, int bCol) => m < MR && bCol == 1;

    // Below this many multiply-adds per part a second thread does not pay; above it, each core streams its own columns
    // of B (which then stay in that core's L2 from one prediction to the next): one part per thread, and the caller
    // always runs part 0, so each core keeps its columns.
    private const long MinimumSkinnyPartMacs = 1 << 16;

    private static unsafe void Skinny(Job* job)
    {
        var blocks = (job->N + WideColumns - 1) / WideColumns;
        var parts = Math.Min(Workers.ThreadsFor((long)job->M * job->N * job->K, MinimumSkinnyPartMacs), blocks);
        Workers.Run(&SkinnyPart, job, parts);
    }

    // Same arithmetic as the blocked path: per K slice of KC, a chain of fused multiply-adds from 0, then C = acc (first
    // slice) or C + acc; the epilogue after the last slice. So every row gets the same bits whichever path runs.
    private static unsafe void SkinnyPart(void* state, int part, int parts)
    {
        ref readonly var j = ref *(Job*)state;
        var (lo, hi) = Range(j.N, WideColumns, part, parts);
        for (var i = 0; i < j.M; i++)
        {
            var a = j.A + (long)i * j.ARow;
            var c = j.C + (long)i * j.Ldc;
            var j0 = lo;
            for (; j0 + WideColumns <= hi; j0 += WideColumns)
            {
                SkinnyWide(j, a, c + j0, j0);
            }
            for (; j0 < hi; j0 += SkinnyColumns)
            {
                // Four column vectors; lanes past the right edge are masked off (loads give 0, stores skip them).
                var count = Math.Min(SkinnyColumns, hi - j0);
                var m0 = Mask(count);
                var m1 = Mask(count - 8);
                var m2 = Mask(count - 16);
                var m3 = Mask(count - 24);
                Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                for (var pc = 0; pc < j.K; pc += KC)
                {
                    Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
                    var end = Math.Min(j.K, pc + KC);
                    for (var p = pc; p < end; p++)
                    {
                        var x = Vector256.Create(a[(long)p * j.ACol]);
                        var b = j.B + (long)p * j.BRow + j0;
                        c0 = Fma.MultiplyAdd(x, Avx.MaskLoad(b, m0), c0);
                        c1 = Fma.MultiplyAdd(x, Avx.MaskLoad(b + 8, m1), c1);
                        c2 = Fma.MultiplyAdd(x, Avx.MaskLoad(b + 16, m2), c2);
                        c3 = Fma.MultiplyAdd(x, Avx.MaskLoad(b + 24, m3), c3);
                    }
                    var overwrite = pc == 0 && !j.Accumulate;
                    var cs = c + j0;
                    s0 = overwrite ? c0 : Avx.Add(pc == 0 ? Avx.MaskLoad(cs, m0) : s0, c0);
                    s1 = overwrite ? c1 : Avx.Add(pc == 0 ? Avx.MaskLoad(cs + 8, m1) : s1, c1);
                    s2 = overwrite ? c2 : Avx.Add(pc == 0 ? Avx.MaskLoad(cs + 16, m2) : s2, c2);
                    s3 = overwrite ? c3 : Avx.Add(pc == 0 ? Avx.MaskLoad(cs + 24, m3) : s3, c3);
                }
                var bias = j.Bias == null ? null : j.Bias + j0;
                SkinnyStore(j, c + j0, bias, Math.Min(count, 8), m0, s0);
                SkinnyStore(j, c + j0 + 8, bias == null ? null : bias + 8, count - 8, m1, s1);
                SkinnyStore(j, c + j0 + 16, bias == null ? null : bias + 16, count - 16, m2, s2);
                SkinnyStore(j, c + j0 + 24, bias == null ? null : bias + 24, count - 24, m3, s3);
            }
        }
    }

    // Columns j0 .. j0+63 of one row: eight independent chains, unmasked loads. Between K slices the partial sums wait in
    // C, with the same additions the masked path makes in registers, and the epilogue reads them back.
    private static unsafe void SkinnyWide(in Job j, float* a, float* c, int j0)
    {
        for (var pc = 0; pc < j.K; pc += KC)
        {
            Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
            var end = Math.Min(j.K, pc + KC);
            var b = j.B + (long)pc * j.BRow + j0;
            for (var p = pc; p < end; p++, b += j.BRow)
            {
                var x = Vector256.Create(a[(long)p * j.ACol]);
                c0 = Fma.MultiplyAdd(x, Avx.LoadVector256(b), c0);
                c1 = Fma.MultiplyAdd(x, Avx.LoadVector256(b + 8), c1);
                c2 = Fma.MultiplyAdd(x, Avx.LoadVector256(b + 16), c2);
                c3 = Fma.MultiplyAdd(x, Avx.LoadVector256(b + 24), c3);
                c4 = Fma.MultiplyAdd(x, Avx.LoadVector256(b + 32), c4);
                c5 = Fma.MultiplyAdd(x, Avx.LoadVector256(b + 40), c5);
                c6 = Fma.MultiplyAdd(x, Avx.LoadVector256(b + 48), c6);
                c7 = Fma.MultiplyAdd(x, Avx.LoadVector256(b + 56), c7);
            }
            var add = pc > 0 || j.Accumulate;
            AddTo(c, c0, add);
            AddTo(c + 8, c1, add);
            AddTo(c + 16, c2, add);
            AddTo(c + 24, c3, add);
            AddTo(c + 32, c4, add);
            AddTo(c + 40, c5, add);
            AddTo(c + 48, c6, add);
            AddTo(c + 56, c7, add);
        }
        if (j.Bias != null)
        {
            for (var v = 0; v < WideColumns; v += 8)
            {
                var sum = Avx.Add(Avx.LoadVector256(c + v), Avx.LoadVector256(j.Bias + j0 + v));
                Avx.Store(c + v, j.Relu ? Avx.Max(sum, Vector256<float>.Zero) : sum);
            }
        }
    }

    private static unsafe void AddTo(float* c, Vector256<float> v, bool add) => Avx.Store(c, add ? Avx.Add(Avx.LoadVector256(c), v) : v);

    private static Vector256<float> Mask(int count) =>
        Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle();

    private static unsafe void SkinnyStore(in Job j, float* c, float* bias, int count, Vector256<float> mask, Vector256<float> v)
    {
        if (count <= 0)
        {
            return;
        }
        if (bias != null)
        {
            v = Avx.Add(v, Avx.MaskLoad(bias, mask));
            v = j.Relu ? Avx.Max(v, Vector256<float>.Zero) : v;
        }
        if (count >= 8)
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
