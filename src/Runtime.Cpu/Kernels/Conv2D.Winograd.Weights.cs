using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu;

public static partial class Conv2D
{
    private readonly partial struct Winograd
    {
        // Tiles per block of the weight gradient: their transformed inputs and output gradients, 64 points each.
        private const int WeightBlock = 32;
        // The tiles are summed in this many segments at most (a function of the batch, not of the threads), each by one
        // thread into its own dU; the segments' sums are then added in order.
        private const int Segments = 8;

        private int GradientFloats => ImplicitGemm.Aligned(Points * C * N);
        private int WeightInputStride => WeightBlock * C + ImplicitGemm.Alignment;
        private int WeightProductStride => WeightBlock * N + ImplicitGemm.Alignment;
        private int WeightBlockFloats => ImplicitGemm.Aligned(Points * (WeightInputStride + WeightProductStride));

        /// <summary>Floats of scratch for <see cref="WeightGradient"/>: each segment's dU, then each thread's block of transforms.</summary>
        public int WeightScratchSize => Segments * GradientFloats + Workers.Count * WeightBlockFloats + ImplicitGemm.Alignment;

        /// <summary>
        /// dw, overwritten, as the adjoint of the forward pass: dU[p] = Σ over tiles of V[p]ᵀ·dM[p] per point p, V = B^T x B
        /// the tile's transformed input and dM = A dY A^T its output gradient through the output transform's adjoint,
        /// summed over the tiles in ascending order in blocks of <see cref="WeightBlock"/>; then dw = G^T dU G in float64.
        /// Each point's sum belongs to one thread, so the bits do not depend on the thread count.
        /// </summary>
        public unsafe void WeightGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dz, Span<float> dw, int batch, Span<float> scratch)
        {
            fixed (float* px = x, pdz = dz, pdw = dw, pscratch = scratch)
            {
                var gradients = ImplicitGemm.Align(pscratch);
                var tiles = batch * _tilesH * _tilesW;
                var segments = Math.Min(Segments, (tiles + WeightBlock - 1) / WeightBlock);
                var job = new WeightGradientJob(this, px, pdz, gradients, gradients + (long)Segments * GradientFloats, pdw, tiles, segments);
                Workers.Run(&SegmentPart, &job, segments);
                Workers.Run(&UntransformGradient, &job, Workers.PartsFor(C, 1));
            }
        }

        // Segment `part`: its blocks of tiles in order, each transformed (V = B^T x B, dM = A dY A^T) into this thread's
        // buffers, then added into the segment's dU.
        private static unsafe void SegmentPart(void* state, int part, int parts)
        {
            ref readonly var job = ref *(WeightGradientJob*)state;
            var wg = job.Winograd;
            var inputs = job.Blocks + (long)Workers.Thread * wg.WeightBlockFloats;
            var products = inputs + (long)Points * wg.WeightInputStride;
            var gradient = job.Gradients + (long)part * wg.GradientFloats;
            new Span<float>(gradient, Points * wg.C * wg.N).Clear();
            var blocks = (job.Tiles + WeightBlock - 1) / WeightBlock;
            var (lo, hi) = Gemm.Range(blocks, 1, part, parts);
            for (var block = lo; block < hi; block++)
            {
                var t0 = block * WeightBlock;
                var count = Math.Min(WeightBlock, job.Tiles - t0);
                for (var i = 0; i < count; i++)
                {
                    wg.TransformInput(job.X, t0 + i, inputs + (long)i * wg.C, wg.WeightInputStride);
                    if (wg._out == 4)
                    {
                        wg.TransformOutputGradient<F4x4>(job.Dz, t0 + i, products + (long)i * wg.N, wg.WeightProductStride);
                    }
                    else
                    {
                        wg.TransformOutputGradient<F6x6>(job.Dz, t0 + i, products + (long)i * wg.N, wg.WeightProductStride);
                    }
                }
                for (var point = 0; point < Points; point++)
                {
                    wg.Accumulate(inputs + (long)point * wg.WeightInputStride, products + (long)point * wg.WeightProductStride, gradient + (long)point * wg.C * wg.N, count);
                }
            }
        }

        // dM = A dY A^T for tile t (dY zero outside the output), eight channels at a time, point p to dst + p·pointStride.
        private unsafe void TransformOutputGradient<T>(float* dz, int t, float* dst, int pointStride)
            where T : struct, IOutputTransform
        {
            var (sample, rest) = Math.DivRem(t, _tilesH * _tilesW);
            var (th, tw) = Math.DivRem(rest, _tilesW);
            var (outH, outW) = (_plan.OutH, _plan.OutW);
            var (rows, cols) = (Math.Min(T.Out, outH - T.Out * th), Math.Min(T.Out, outW - T.Out * tw));
            var d = stackalloc Vector256<float>[6 * 6];
            var half = stackalloc Vector256<float>[Tile * 6];
            var m = stackalloc Vector256<float>[Tile];
            for (var ch = 0; ch < N; ch += 8)
            {
                for (var i = 0; i < T.Out; i++)
                {
                    for (var j = 0; j < T.Out; j++)
                    {
                        d[i * 6 + j] = i < rows && j < cols
                            ? Vector256.Load(dz + ((long)(sample * outH + T.Out * th + i) * outW + T.Out * tw + j) * N + ch)
                            : Vector256<float>.Zero;
                    }
                }
                // Columns first: half[p·6 + j] = (A dY)[p, j].
                for (var j = 0; j < T.Out; j++)
                {
                    var c = d + j;
                    AdjointAT(c[0], c[6], c[12], c[18], T.Out > 4 ? c[24] : default, T.Out > 4 ? c[30] : default, c[(T.Out - 1) * 6], half + j, 6);
                }
                for (var p = 0; p < Tile; p++)
                {
                    var r = half + p * 6;
                    AdjointAT(r[0], r[1], r[2], r[3], T.Out > 4 ? r[4] : default, T.Out > 4 ? r[5] : default, r[T.Out - 1], m, 1);
                    for (var q = 0; q < Tile; q++)
                    {
                        m[q].Store(dst + (long)(p * Tile + q) * pointStride + ch);
                    }
                }
            }
        }

        // A·(v0..v5): the output values v (v4 = v5 = 0 for four outputs) as a polynomial at 0, ±1, ±2, ±½, and its last
        // coefficient at ∞: the transpose of AT/AT6.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void AdjointAT(Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3,
            Vector256<float> v4, Vector256<float> v5, Vector256<float> last, Vector256<float>* dst, int stride)
        {
            var (even, odd) = (v0 + v2 + v4, v1 + v3 + v5);
            var even2 = Vector256.FusedMultiplyAdd(Vector256.Create(16f), v4, Vector256.FusedMultiplyAdd(Vector256.Create(4f), v2, v0));
            var odd2 = Vector256.FusedMultiplyAdd(Vector256.Create(32f), v5, Vector256.FusedMultiplyAdd(Vector256.Create(8f), v3, Vector256.Create(2f) * v1));
            var evenHalf = Vector256.FusedMultiplyAdd(Vector256.Create(0.0625f), v4, Vector256.FusedMultiplyAdd(Vector256.Create(0.25f), v2, v0));
            var oddHalf = Vector256.FusedMultiplyAdd(Vector256.Create(0.03125f), v5, Vector256.FusedMultiplyAdd(Vector256.Create(0.125f), v3, Vector256.Create(0.5f) * v1));
            dst[0] = v0;
            dst[stride] = even + odd;
            dst[2 * stride] = even - odd;
            dst[3 * stride] = even2 + odd2;
            dst[4 * stride] = even2 - odd2;
            dst[5 * stride] = evenHalf + oddHalf;
            dst[6 * stride] = evenHalf - oddHalf;
            dst[7 * stride] = last;
        }

        // dU (C × N) += Vᵀ·dM over the block's `count` tiles in order, four rows by sixteen columns (or eight, at the end
        // of N) in registers.
        private unsafe void Accumulate(float* inputs, float* products, float* gradient, int count)
        {
            var (c, n) = (C, N);
            for (var c0 = 0; c0 < c; c0 += 4)
            {
                var v = inputs + c0;
                var dm = products;
                var du = gradient + (long)c0 * n;
                var n0 = 0;
                for (; n0 + 16 <= n; n0 += 16)
                {
                    var (a0, b0, a1, b1) = (Vector256.Load(du + n0), Vector256.Load(du + n0 + 8), Vector256.Load(du + n + n0), Vector256.Load(du + n + n0 + 8));
                    var (a2, b2, a3, b3) = (Vector256.Load(du + 2 * n + n0), Vector256.Load(du + 2 * n + n0 + 8), Vector256.Load(du + 3 * n + n0), Vector256.Load(du + 3 * n + n0 + 8));
                    for (var i = 0; i < count; i++)
                    {
                        var lhs = v + (long)i * c;
                        var rhs = dm + (long)i * n + n0;
                        var (r0, r1) = (Vector256.Load(rhs), Vector256.Load(rhs + 8));
                        var s = Vector256.Create(lhs[0]);
                        (a0, b0) = (Vector256.FusedMultiplyAdd(s, r0, a0), Vector256.FusedMultiplyAdd(s, r1, b0));
                        s = Vector256.Create(lhs[1]);
                        (a1, b1) = (Vector256.FusedMultiplyAdd(s, r0, a1), Vector256.FusedMultiplyAdd(s, r1, b1));
                        s = Vector256.Create(lhs[2]);
                        (a2, b2) = (Vector256.FusedMultiplyAdd(s, r0, a2), Vector256.FusedMultiplyAdd(s, r1, b2));
                        s = Vector256.Create(lhs[3]);
                        (a3, b3) = (Vector256.FusedMultiplyAdd(s, r0, a3), Vector256.FusedMultiplyAdd(s, r1, b3));
                    }
                    a0.Store(du + n0);
                    b0.Store(du + n0 + 8);
                    a1.Store(du + n + n0);
                    b1.Store(du + n + n0 + 8);
                    a2.Store(du + 2 * n + n0);
                    b2.Store(du + 2 * n + n0 + 8);
                    a3.Store(du + 3 * n + n0);
                    b3.Store(du + 3 * n + n0 + 8);
                }
                if (n0 < n)
                {
                    var (a0, a1, a2, a3) = (Vector256.Load(du + n0), Vector256.Load(du + n + n0), Vector256.Load(du + 2 * n + n0), Vector256.Load(du + 3 * n + n0));
                    for (var i = 0; i < count; i++)
                    {
                        var lhs = v + (long)i * c;
                        var r0 = Vector256.Load(dm + (long)i * n + n0);
                        a0 = Vector256.FusedMultiplyAdd(Vector256.Create(lhs[0]), r0, a0);
                        a1 = Vector256.FusedMultiplyAdd(Vector256.Create(lhs[1]), r0, a1);
                        a2 = Vector256.FusedMultiplyAdd(Vector256.Create(lhs[2]), r0, a2);
                        a3 = Vector256.FusedMultiplyAdd(Vector256.Create(lhs[3]), r0, a3);
                    }
                    a0.Store(du + n0);
                    a1.Store(du + n + n0);
                    a2.Store(du + 2 * n + n0);
                    a3.Store(du + 3 * n + n0);
                }
            }
        }

        // In channels [lo, hi): dw[kh, kw, c, n] = Σ over points (p, q) of G[p, kh]·dU[p·8 + q][c, n]·G[q, kw], in float64,
        // dU the segments' sums added in order.
        private static unsafe void UntransformGradient(void* state, int part, int parts)
        {
            ref readonly var job = ref *(WeightGradientJob*)state;
            var wg = job.Winograd;
            var (c, n, k) = (wg.C, wg.N, wg._plan.K);
            var g = stackalloc double[Tile * 5];
            FilterTransform(k, g);
            var half = stackalloc Vector256<double>[Tile * 5];
            var du = stackalloc Vector256<double>[Points];
            var pointStride = (long)c * n;
            var (lo, hi) = Gemm.Range(c, 1, part, parts);
            for (var ic = lo; ic < hi; ic++)
            {
                // Four out channels at a time, as the forward transforms the kernel.
                for (var oc = 0; oc < n; oc += 4)
                {
                    var at = job.Gradients + (long)ic * n + oc;
                    for (var point = 0; point < Points; point++)
                    {
                        var sum = Vector256<double>.Zero;
                        for (var segment = 0; segment < job.Segments; segment++)
                        {
                            sum += Widen(at + segment * (long)wg.GradientFloats + point * pointStride);
                        }
                        du[point] = sum;
                    }
                    // half[p, kw] = Σ_q dU[p, q]·G[q, kw], then dw[kh, kw] = Σ_p G[p, kh]·half[p, kw].
                    for (var p = 0; p < Tile; p++)
                    {
                        for (var kw = 0; kw < k; kw++)
                        {
                            var sum = Vector256<double>.Zero;
                            for (var q = 0; q < Tile; q++)
                            {
                                sum += du[p * Tile + q] * g[q * 5 + kw];
                            }
                            half[p * 5 + kw] = sum;
                        }
                    }
                    for (var kh = 0; kh < k; kh++)
                    {
                        for (var kw = 0; kw < k; kw++)
                        {
                            var sum = Vector256<double>.Zero;
                            for (var p = 0; p < Tile; p++)
                            {
                                sum += g[p * 5 + kh] * half[p * 5 + kw];
                            }
                            Avx.ConvertToVector128Single(sum).Store(job.Dw + ((long)(kh * k + kw) * c + ic) * n + oc);
                        }
                    }
                }
            }
        }

        // G as TransformFilter applies it, row p (a point) by column (a tap), rows 5 floats apart: the filter's values at
        // the points, scaled by the interpolation's denominators; ∞ takes the last tap.
        private static unsafe void FilterTransform(int k, double* g)
        {
            var points = stackalloc double[] { 0, 1, -1, 2, -2, 0.5, -0.5 };
            var scales = stackalloc double[] { 0.25, 1.0 / 18, 1.0 / 18, 1.0 / 360, 1.0 / 360, 16.0 / 45, 16.0 / 45 };
            for (var p = 0; p < Tile - 1; p++)
            {
                var power = scales[p];
                for (var tap = 0; tap < k; tap++, power *= points[p])
                {
                    g[p * 5 + tap] = power;
                }
            }
            for (var tap = 0; tap < k; tap++)
            {
                g[(Tile - 1) * 5 + tap] = tap == k - 1 ? 0.25 : 0;
            }
        }

        private readonly unsafe struct WeightGradientJob(Winograd winograd, float* x, float* dz, float* gradients, float* blocks, float* dw, int tiles, int segments)
        {
            public readonly Winograd Winograd = winograd;
            public readonly float* X = x, Dz = dz, Gradients = gradients, Blocks = blocks, Dw = dw;
            public readonly int Tiles = tiles, Segments = segments;
        }
    }
}
