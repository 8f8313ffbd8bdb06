using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu;

public static partial class Conv2D
{
    /// <summary>
    /// The forward pass of a 5×5 stride-1 convolution as Winograd F(2×2, 5×5) (Lavin &amp; Gray, 2016): each 2×2 block of
    /// output is A^T[(G w G^T) ⊙ (B^T d B)]A from its 6×6 input tile d, so the multiplies are 36 per (tile, in channel,
    /// out channel) instead of 100, done as 36 small GEMMs. Interpolation points 0, ±1, ±2, ∞ keep the transforms small
    /// integers (B^T, A^T) and one fraction per row (G), so float32 rounding stays near the direct product's.
    /// </summary>
    /// <remarks>
    /// Tiles are processed in blocks whose transformed inputs and products stay in L2; parts own whole blocks, and every
    /// output is computed by the same operations whatever the number of threads.
    /// </remarks>
    [SkipLocalsInit]
    private readonly struct Winograd
    {
        private const int Tile = 6;
        private const int Points = Tile * Tile;
        private const int Block = 48;

        private readonly ImplicitGemm _plan;
        private readonly int _tilesH, _tilesW;

        private Winograd(in ConvGeometry g)
        {
            (_tilesH, _tilesW) = ((g.OutH + 1) / 2, (g.OutW + 1) / 2);
            // Padded to whole tiles: the last tile may read a row and a column past the convolution's own padding.
            var forward = ImplicitGemm.ForForward(g);
            _plan = forward with { Hp = 2 * _tilesH + 4, Wp = 2 * _tilesW + 4 };
        }

        // Below this batch the weight transform, redone every call, costs more than the multiplies it saves.
        private const int MinimumBatch = 16;

        /// <summary>Supported and worth it: 5×5, stride 1, channel counts in whole vectors, and a batch that amortises the weight transform.</summary>
        public static Winograd? For(in ConvGeometry g, int batch) =>
            g.Kernel == 5 && g.Stride == 1 && g.InC % 8 == 0 && g.OutC % 8 == 0 && batch >= MinimumBatch && Fma.IsSupported ? new Winograd(g) : null;

        private int C => _plan.C;
        private int N => _plan.N;
        private int Panels => (N + Gemm.NR - 1) / Gemm.NR * Gemm.NR;
        private int Transformed => ImplicitGemm.Aligned(Points * C * Panels);
        // A point's block of inputs or products, plus a cache line: the 36 points of one tile then fall in different L1
        // sets rather than in the two or four that a stride of a multiple of 1 KiB would give them.
        private int InputStride => Block * C + ImplicitGemm.Alignment;
        private int ProductStride => Block * N + ImplicitGemm.Alignment;
        private int PartFloats => Points * (InputStride + ProductStride);

        /// <summary>Transformed weights, the padded chunk, then each part's block of transformed inputs and products.</summary>
        public int ScratchSize(int batch) =>
            Transformed + _plan.ScratchSize(batch) + Workers.Count * PartFloats + ImplicitGemm.Alignment;

        /// <summary>Whether <see cref="ConvolvePooled"/> serves this pool: 2×2 windows on the tile grid.</summary>
        public static bool Pools(in PoolGeometry pool) => pool is { Pool: 2, Stride: 2, PadTop: 0, PadLeft: 0 };

        public void Convolve(ReadOnlySpan<float> src, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Epilogue act, Span<float> y, int batch, in ConvGeometry g, Span<float> scratch) =>
            Run(src, w, bias, act, y, default, batch, g, default, scratch);

        /// <summary>Each tile's 2×2 outputs are one pooling window: the tile is pooled as it is transformed.</summary>
        public void ConvolvePooled(ReadOnlySpan<float> src, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Epilogue act, Span<float> y, Span<int> argmax, int batch, in ConvGeometry g, in PoolGeometry pool, Span<float> scratch) =>
            Run(src, w, bias, act, y, argmax, batch, g, pool, scratch);

        // Pooled when argmax is given: y and argmax are then the pool's.
        private unsafe void Run(ReadOnlySpan<float> src, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Epilogue act, Span<float> y, Span<int> argmax, int batch, in ConvGeometry g, in PoolGeometry pool, Span<float> scratch)
        {
            var chunk = _plan.ChunkSamples(batch);
            var outSize = argmax.IsEmpty ? g.OutSize : pool.OutSize;
            fixed (float* ps = src, pw = w, pb = bias, py = y, pscratch = scratch)
            fixed (int* pargmax = argmax)
            {
                var weights = ImplicitGemm.Align(pscratch);
                var padded = weights + Transformed;
                var parts = padded + (long)chunk * _plan.PaddedSample + Gemm.PackSlack;
                TransformWeights(pw, weights);
                for (var s0 = 0; s0 < batch; s0 += chunk)
                {
                    var count = Math.Min(chunk, batch - s0);
                    _plan.Pad(ps + (long)s0 * _plan.SrcSample, padded, count);
                    var job = new Job(this, g, padded, weights, pb, act, py + (long)s0 * outSize, pargmax == null ? null : pargmax + (long)s0 * outSize, pool, count, ImplicitGemm.Align(parts));
                    var tiles = count * _tilesH * _tilesW;
                    Workers.Run(&Part, &job, Workers.PartsFor((long)tiles * Points * C * N, 1 << 18));
                }
            }
        }

        // U = G w G^T for every (in, out) channel pair, stored per point as Gemm's NR-wide panels of [C × N].
        private unsafe void TransformWeights(float* w, float* dst)
        {
            var panels = Panels;
            new Span<float>(dst, Points * C * panels).Clear();
            var g = stackalloc float[25];
            var t = stackalloc float[30];
            var u = stackalloc float[Tile];
            for (var ic = 0; ic < C; ic++)
            {
                for (var oc = 0; oc < N; oc++)
                {
                    for (var k = 0; k < 25; k++)
                    {
                        g[k] = w[((long)k * C + ic) * N + oc];
                    }
                    // t = G·g (6×5), then U = t·G^T (6×6).
                    for (var col = 0; col < 5; col++)
                    {
                        var (a, b, c, d, e) = (g[col], g[5 + col], g[10 + col], g[15 + col], g[20 + col]);
                        TransformFilter(a, b, c, d, e, t + col, 5);
                    }
                    for (var row = 0; row < Tile; row++)
                    {
                        var r = t + row * 5;
                        TransformFilter(r[0], r[1], r[2], r[3], r[4], u, 1);
                        for (var col = 0; col < Tile; col++)
                        {
                            var point = row * Tile + col;
                            // Panel oc / NR of point's [C × N] matrix, row ic.
                            dst[(long)point * C * panels + (long)(oc / Gemm.NR * Gemm.NR) * C + (long)ic * Gemm.NR + oc % Gemm.NR] = u[col];
                        }
                    }
                }
            }
        }

        // G·(a..e): the six filter values at the points 0, 1, −1, 2, −2, ∞.
        private static unsafe void TransformFilter(float a, float b, float c, float d, float e, float* dst, int stride)
        {
            dst[0] = a / 4f;
            dst[stride] = -(a + b + c + d + e) / 6f;
            dst[2 * stride] = -(a - b + c - d + e) / 6f;
            dst[3 * stride] = (a + 2f * b + 4f * c + 8f * d + 16f * e) / 24f;
            dst[4 * stride] = (a - 2f * b + 4f * c - 8f * d + 16f * e) / 24f;
            dst[5 * stride] = e;
        }

        // Tiles [lo, hi) of the chunk, a block at a time: transform inputs, 36 products, transform outputs.
        private static unsafe void Part(void* state, int part, int parts)
        {
            ref readonly var job = ref *(Job*)state;
            var wg = job.Winograd;
            var (c, n) = (wg.C, wg.N);
            var inputs = job.Parts + (long)part * wg.PartFloats;
            var products = inputs + (long)Points * wg.InputStride;
            var rows = stackalloc float*[Gemm.MR];
            var tile = stackalloc float[Gemm.MR * Gemm.NR];
            var (lo, hi) = Gemm.Range(job.Count * wg._tilesH * wg._tilesW, Block, part, parts);
            for (var t0 = lo; t0 < hi; t0 += Block)
            {
                var count = Math.Min(Block, hi - t0);
                for (var i = 0; i < count; i++)
                {
                    wg.TransformInput(job.Padded, t0 + i, inputs + (long)i * c, wg.InputStride);
                }
                for (var point = 0; point < Points; point++)
                {
                    var a = inputs + (long)point * wg.InputStride;
                    var u = job.Weights + (long)point * c * wg.Panels;
                    var m = products + (long)point * wg.ProductStride;
                    for (var i0 = 0; i0 < count; i0 += Gemm.MR)
                    {
                        var mr = Math.Min(Gemm.MR, count - i0);
                        for (var r = 0; r < Gemm.MR; r++)
                        {
                            rows[r] = a + (long)(i0 + (r < mr ? r : 0)) * c;
                        }
                        for (var jr = 0; jr < n; jr += Gemm.NR)
                        {
                            ImplicitGemm.TileFma(rows, 1, 0, c, u + (long)jr * c, m + (long)i0 * n + jr, n, mr, Math.Min(Gemm.NR, n - jr), null, false, tile);
                        }
                    }
                }
                for (var i = 0; i < count; i++)
                {
                    if (job.Argmax == null)
                    {
                        wg.TransformOutput(products + (long)i * n, wg.ProductStride, t0 + i, job);
                    }
                    else
                    {
                        wg.TransformPooled(products + (long)i * n, wg.ProductStride, t0 + i, job);
                    }
                }
            }
        }

        // V = B^T d B for tile t, eight channels at a time; V's point p goes to dst + p·pointStride.
        private unsafe void TransformInput(float* padded, int t, float* dst, int pointStride)
        {
            var (sample, rest) = Math.DivRem(t, _tilesH * _tilesW);
            var (th, tw) = Math.DivRem(rest, _tilesW);
            var origin = padded + (long)sample * _plan.PaddedSample + (long)(2 * th) * _plan.RowStride + (long)(2 * tw) * C;
            var rowStride = _plan.RowStride;
            var rowsT = stackalloc Vector256<float>[Points];
            var v = stackalloc Vector256<float>[Tile];
            for (var ch = 0; ch < C; ch += 8)
            {
                // Columns first: rowsT[r·6 + col] = (B^T d)[r, col].
                for (var col = 0; col < Tile; col++)
                {
                    var p = origin + (long)col * C + ch;
                    BT(Vector256.Load(p), Vector256.Load(p + rowStride), Vector256.Load(p + 2 * rowStride), Vector256.Load(p + 3 * rowStride),
                        Vector256.Load(p + 4 * rowStride), Vector256.Load(p + 5 * rowStride), rowsT + col, Tile);
                }
                for (var r = 0; r < Tile; r++)
                {
                    var row = rowsT + r * Tile;
                    BT(row[0], row[1], row[2], row[3], row[4], row[5], v, 1);
                    for (var col = 0; col < Tile; col++)
                    {
                        v[col].Store(dst + (long)(r * Tile + col) * pointStride + ch);
                    }
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void BT(Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3, Vector256<float> d4, Vector256<float> d5, Vector256<float>* dst, int stride)
        {
            var four = Vector256.Create(4f);
            var two = Vector256.Create(2f);
            var five = Vector256.Create(5f);
            var d4MinusD2 = d4 - d2;
            dst[0] = Vector256.FusedMultiplyAdd(four, d0, d4) - five * d2;
            dst[stride] = d3 + d4 - four * (d1 + d2);
            dst[2 * stride] = four * (d1 - d2) + d4 - d3;
            dst[3 * stride] = Vector256.FusedMultiplyAdd(two, d3 - d1, d4MinusD2);
            dst[4 * stride] = Vector256.FusedMultiplyAdd(two, d1 - d3, d4MinusD2);
            dst[5 * stride] = Vector256.FusedMultiplyAdd(four, d1, d5) - five * d3;
        }

        // y = act(A^T M A + bias) for the 2×2 outputs of tile t that lie inside the output.
        private unsafe void TransformOutput(float* m, int pointStride, int t, in Job job)
        {
            var (sample, rest) = Math.DivRem(t, _tilesH * _tilesW);
            var (th, tw) = Math.DivRem(rest, _tilesW);
            var g = job.Geometry;
            var two = Vector256.Create(2f);
            var cols = stackalloc Vector256<float>[2 * Tile];
            for (var ch = 0; ch < N; ch += 8)
            {
                TransformRows(m + ch, pointStride, cols);
                var bias = Vector256.Load(job.Bias + ch);
                for (var i = 0; i < 2; i++)
                {
                    var oh = 2 * th + i;
                    if (oh >= g.OutH)
                    {
                        break;
                    }
                    var r = cols + i * Tile;
                    var left = r[0] + r[1] + r[2] + r[3] + r[4] + bias;
                    var right = Vector256.FusedMultiplyAdd(two, r[3] - r[4], r[1] - r[2] + r[5]) + bias;
                    var at = job.Output + ((long)(sample * g.OutH + oh) * g.OutW + 2 * tw) * N + ch;
                    Activate(left, job.Act).Store(at);
                    if (2 * tw + 1 < g.OutW)
                    {
                        Activate(right, job.Act).Store(at + N);
                    }
                }
            }
        }

        // cols[i·6 + col] = (A^T M)[i, col] for the eight channels at m; point p of M is at m + p·pointStride.
        private static unsafe void TransformRows(float* m, int pointStride, Vector256<float>* cols)
        {
            var two = Vector256.Create(2f);
            for (var col = 0; col < Tile; col++)
            {
                var p = m + (long)col * pointStride;
                var (m0, m1, m2, m3, m4, m5) = (Vector256.Load(p), Vector256.Load(p + 6L * pointStride), Vector256.Load(p + 12L * pointStride),
                    Vector256.Load(p + 18L * pointStride), Vector256.Load(p + 24L * pointStride), Vector256.Load(p + 30L * pointStride));
                cols[col] = m0 + m1 + m2 + m3 + m4;
                cols[Tile + col] = Vector256.FusedMultiplyAdd(two, m3 - m4, m1 - m2 + m5);
            }
        }

        // The pool window over tile t's 2×2 outputs, in MaxPool2D.Forward's order (row-major, strictly greater replaces,
        // only cells inside the output); tiles past the pool's output (valid pooling of an odd size) are dropped.
        private unsafe void TransformPooled(float* m, int pointStride, int t, in Job job)
        {
            var (sample, rest) = Math.DivRem(t, _tilesH * _tilesW);
            var (th, tw) = Math.DivRem(rest, _tilesW);
            var (g, pool) = (job.Geometry, job.Pool);
            if (th >= pool.OutH || tw >= pool.OutW)
            {
                return;
            }
            var two = Vector256.Create(2f);
            var (down, right) = (2 * th + 1 < g.OutH, 2 * tw + 1 < g.OutW);
            var o = ((long)(sample * pool.OutH + th) * pool.OutW + tw) * N;
            var origin = (2 * th * g.OutW + 2 * tw) * N;
            var cols = stackalloc Vector256<float>[2 * Tile];
            var lanesOut = stackalloc float[8];
            for (var ch = 0; ch < N; ch += 8)
            {
                TransformRows(m + ch, pointStride, cols);
                var bias = Vector256.Load(job.Bias + ch);
                var lanes = Vector256.Create(origin + ch) + Vector256<int>.Indices;
                var max = Activate(cols[0] + cols[1] + cols[2] + cols[3] + cols[4] + bias, job.Act, lanesOut);
                var at = lanes;
                if (right)
                {
                    Take(Activate(Vector256.FusedMultiplyAdd(two, cols[3] - cols[4], cols[1] - cols[2] + cols[5]) + bias, job.Act, lanesOut), lanes + Vector256.Create(N), ref max, ref at);
                }
                if (down)
                {
                    var r = cols + Tile;
                    var below = lanes + Vector256.Create(g.OutW * N);
                    Take(Activate(r[0] + r[1] + r[2] + r[3] + r[4] + bias, job.Act, lanesOut), below, ref max, ref at);
                    if (right)
                    {
                        Take(Activate(Vector256.FusedMultiplyAdd(two, r[3] - r[4], r[1] - r[2] + r[5]) + bias, job.Act, lanesOut), below + Vector256.Create(N), ref max, ref at);
                    }
                }
                max.Store(job.Output + o + ch);
                at.Store(job.Argmax + o + ch);
            }
        }

        private static void Take(Vector256<float> v, Vector256<int> index, ref Vector256<float> max, ref Vector256<int> at)
        {
            var greater = Vector256.GreaterThan(v, max);
            max = Vector256.ConditionalSelect(greater, v, max);
            at = Vector256.ConditionalSelect(greater.AsInt32(), index, at);
        }

        private static Vector256<float> Activate(Vector256<float> v, Epilogue act) =>
            act == Epilogue.Relu ? Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, Vector256<float>.Zero) : v;

        // Every activation, sigmoid and tanh through Activations' scalar code as the unfused forward applies them.
        private static unsafe Vector256<float> Activate(Vector256<float> v, Epilogue act, float* lanes)
        {
            if (act is not (Epilogue.Sigmoid or Epilogue.Tanh))
            {
                return Activate(v, act);
            }
            v.Store(lanes);
            Activations.Forward(new Span<float>(lanes, 8), act);
            return Vector256.Load(lanes);
        }

        private readonly unsafe struct Job(Winograd winograd, ConvGeometry geometry, float* padded, float* weights, float* bias, Epilogue act, float* output, int* argmax, PoolGeometry pool, int count, float* parts)
        {
            public readonly Winograd Winograd = winograd;
            public readonly ConvGeometry Geometry = geometry;
            public readonly PoolGeometry Pool = pool;
            public readonly float* Padded = padded, Weights = weights, Bias = bias, Output = output, Parts = parts;
            public readonly int* Argmax = argmax;
            public readonly Epilogue Act = act;
            public readonly int Count = count;
        }
    }
}
