using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu;

public static partial class Conv2D
{
    [ThreadStatic] private static bool t_noWinograd;

    /// <summary>While true on this thread, convolutions that would run as Winograd take the implicit GEMM (tests compare the two).</summary>
    internal static bool NoWinograd
    {
        get => t_noWinograd;
        set => t_noWinograd = value;
    }

    /// <summary>Whether the forward pass of g (and its data and weight gradients) runs as Winograd on this machine.</summary>
    internal static bool RunsAsWinograd(in ConvGeometry g) => Winograd.For(g) is not null;

    /// <summary>
    /// The forward pass of a 5×5 stride-1 convolution as Winograd F(4×4, 5×5) (Lavin &amp; Gray, 2016; 3×3 as F(6×6, 3×3)
    /// on the same tiles: Conv2D.Winograd3.cs, data and weight gradients: .Data.cs, .Weights.cs): each 4×4 block of
    /// output is A^T[(G w G^T) ⊙ (B^T d B)]A from its 8×8 input tile d, so the multiplies are 64 per (tile, in channel,
    /// out channel) instead of 400, done as 64 small GEMMs. The interpolation points 0, ±1, ±2, ±½, ∞ keep B^T small
    /// integers, A^T powers of two and G one fraction per row; float32 outputs stay within about 1e-5 of the float64
    /// product relative to the largest output (F(2×2, 5×5), with 2.25× the multiplies, is at about 7e-6).
    /// <para>An output whose whole window of input is zero is set to exactly the bias, as the direct convolution gives
    /// it: the transforms would leave a rounding residue of about 1e-10 there, whose sign then decides ReLU's gradient
    /// (with Keras' zero biases, on every blank border of an image).</para>
    /// </summary>
    /// <remarks>
    /// Tiles are processed in blocks whose transformed inputs and products stay in L2; parts own whole blocks, and every
    /// output is computed by the same operations whatever the number of threads.
    /// </remarks>
    [SkipLocalsInit]
    private readonly partial struct Winograd
    {
        private const int Tile = 8;
        private const int Points = Tile * Tile;
        private const int Block = 24;

        private readonly ImplicitGemm _plan;
        private readonly int _tilesH, _tilesW;
        // Outputs per tile side: 4 for 5×5 kernels, 6 for 3×3 (Winograd3.cs); Tile = _out + K − 1 either way.
        private readonly int _out;

        private Winograd(in ConvGeometry g)
        {
            _out = Tile + 1 - g.Kernel;
            (_tilesH, _tilesW) = ((g.OutH + _out - 1) / _out, (g.OutW + _out - 1) / _out);
            // The tiles' grid: the input as the convolution pads it, and whole tiles past it (the last tile may reach up
            // to _out − 1 rows and columns further). Nothing is copied: reads outside the input are zeros.
            var forward = ImplicitGemm.ForForward(g);
            _plan = forward with { Hp = _out * _tilesH + g.Kernel - 1, Wp = _out * _tilesW + g.Kernel - 1 };
        }

        /// <summary>
        /// Supported: 5×5, stride 1, channel counts in whole vectors; from one image up it beats the implicit GEMM (the
        /// weight transform takes microseconds). 3×3 where <see cref="Pays3"/>.
        /// </summary>
        public static Winograd? For(in ConvGeometry g) =>
            (g.Kernel == 5 || g.Kernel == 3 && Pays3(g)) && g.Stride == 1 && g.InC % 8 == 0 && g.OutC % 8 == 0 && Fma.IsSupported && !t_noWinograd ? new Winograd(g) : null;

        private int C => _plan.C;
        private int N => _plan.N;
        private int Panels => (N + Gemm.NR - 1) / Gemm.NR * Gemm.NR;
        private int Transformed => ImplicitGemm.Aligned(Points * C * Panels);
        // A point's block of inputs or products, plus a cache line: the 64 points of one tile then fall in different L1
        // sets rather than in the two or four that a stride of a multiple of 1 KiB would give them.
        private int InputStride => Block * C + ImplicitGemm.Alignment;
        private int ProductStride => Block * N + ImplicitGemm.Alignment;
        private int PartFloats => Points * (InputStride + ProductStride);

        // One byte per padded pixel of the chunk, 1 where any channel is nonzero, and a word of room for ZeroWindows' reads.
        private int FlagFloats(int chunk) => ImplicitGemm.Aligned((chunk * _plan.PaddedSample / C + sizeof(ulong)) / sizeof(float) + 1);

        /// <summary>Transformed weights, the chunk's pixel flags, then each thread's block of transformed inputs and products.</summary>
        public int ScratchSize(int batch) =>
            Transformed + FlagFloats(_plan.ChunkSamples(batch)) + Workers.Count * PartFloats + ImplicitGemm.Alignment;

        /// <summary>Whether <see cref="ConvolvePooled"/> serves this pool: 2×2 windows on the tile grid, four to a tile.</summary>
        public static bool Pools(in PoolGeometry pool) => pool is { Pool: 2, Stride: 2, PadTop: 0, PadLeft: 0 };

        public unsafe void Convolve(ReadOnlySpan<float> src, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Epilogue act, Span<float> y, int batch, in ConvGeometry g, Span<float> scratch, TransformedKernel? transformed) =>
            Run(src, w, bias, act, y, default, pooled: false, batch, g, default, scratch, transformed);

        /// <summary>Each tile's 4×4 outputs are four pooling windows: the tile is pooled as it is transformed. An empty argmax is not written.</summary>
        public unsafe void ConvolvePooled(ReadOnlySpan<float> src, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Epilogue act, Span<float> y, Span<int> argmax, int batch, in ConvGeometry g, in PoolGeometry pool, Span<float> scratch, TransformedKernel? transformed) =>
            Run(src, w, bias, act, y, argmax, pooled: true, batch, g, pool, scratch, transformed);

        // When pooled, y and argmax are the pool's.
        // The weight transform goes to `transformed` when given (and is skipped when it already holds it), else to scratch.
        // fromPool, where given, is the source instead of src: the gradient that pool sends down (no zero-window flags).
        private unsafe void Run(ReadOnlySpan<float> src, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Epilogue act, Span<float> y, Span<int> argmax, bool pooled, int batch, in ConvGeometry g, in PoolGeometry pool, Span<float> scratch, TransformedKernel? transformed, MaxPool2D.Lists* fromPool = null)
        {
            var cached = transformed?.Lookup(w, C, N, Transformed) ?? false;
            var chunk = _plan.ChunkSamples(batch);
            // The pool's source needs no flags, so no chunks: its samples are addressed from the batch's first.
            var step = fromPool == null ? chunk : batch;
            var outSize = pooled ? pool.OutSize : g.OutSize;
            fixed (float* ps = src, pw = w, pb = bias, py = y, pscratch = scratch)
            fixed (int* pargmax = argmax)
            {
                var flags = (byte*)(ImplicitGemm.Align(pscratch) + Transformed);
                var weights = transformed is null ? (float*)flags - Transformed : transformed.Transformed;
                var parts = (float*)flags + FlagFloats(chunk);
                if (!cached)
                {
                    var transform = new WeightJob(this, pw, weights);
                    Workers.Run(&TransformWeights, &transform, Workers.PartsFor((long)C * N * Points, 1 << 16));
                    transformed?.Commit();
                }
                for (var s0 = 0; s0 < batch; s0 += step)
                {
                    var count = Math.Min(step, batch - s0);
                    var job = new Job(this, g, ps + (long)s0 * _plan.SrcSample, fromPool, fromPool == null ? flags : null, weights, pb, act, py + (long)s0 * outSize, pargmax == null ? null : pargmax + (long)s0 * outSize, pooled, pool, count, ImplicitGemm.Align(parts));
                    if (fromPool == null)
                    {
                        Workers.Run(&FlagPart, &job, Workers.PartsFor(count, 4));
                    }
                    var tiles = count * _tilesH * _tilesW;
                    Workers.Run(&Part, &job, Workers.PartsFor((long)tiles * Points * C * N, 1 << 18));
                }
            }
        }

        // U = G w G^T for the (in, out) channel pairs of a range of in channels, stored per point as Gemm's NR-wide panels
        // of [C × N] (the lanes past N zero). In float64, four out channels at a time: U is then the rounding of a
        // transform as good as exact, and the whole kernel takes microseconds.
        private static unsafe void TransformWeights(void* state, int part, int parts)
        {
            ref readonly var job = ref *(WeightJob*)state;
            float* w = job.W, dst = job.Dst;
            var (c, n, panels) = (job.Winograd.C, job.Winograd.N, job.Winograd.Panels);
            var k = job.Winograd._plan.K;
            var taps = stackalloc Vector256<double>[k];
            var t = stackalloc Vector256<double>[Tile * k];
            var u = stackalloc Vector256<double>[Tile];
            var (lo, hi) = Gemm.Range(c, 1, part, parts);
            for (var ic = lo; ic < hi; ic++)
            {
                for (var oc = 0; oc < panels; oc += 4)
                {
                    // Panel oc / NR of each point's [C × N] matrix, row ic, lanes oc % NR .. + 3.
                    var at = dst + (long)(oc / Gemm.NR * Gemm.NR) * c + (long)ic * Gemm.NR + oc % Gemm.NR;
                    var pointStride = (long)c * panels;
                    if (oc >= n)
                    {
                        for (var point = 0; point < Points; point++)
                        {
                            Vector128<float>.Zero.Store(at + point * pointStride);
                        }
                        continue;
                    }
                    var g = w + (long)ic * n + oc;
                    var kStride = (long)c * n;
                    // t = G·g (8×K), then U = t·G^T (8×8).
                    for (var col = 0; col < k; col++)
                    {
                        for (var row = 0; row < k; row++)
                        {
                            taps[row] = Widen(g + (row * k + col) * kStride);
                        }
                        TransformFilter(taps, k, t + col, k);
                    }
                    for (var row = 0; row < Tile; row++)
                    {
                        TransformFilter(t + row * k, k, u, 1);
                        for (var col = 0; col < Tile; col++)
                        {
                            Avx.ConvertToVector128Single(u[col]).Store(at + (row * Tile + col) * pointStride);
                        }
                    }
                }
            }
        }

        private static unsafe Vector256<double> Widen(float* four) => Avx.ConvertToVector256Double(Vector128.Load(four));

        // G·taps for a kernel of k taps (5 or 3) to dst, dst + stride, …
        private static unsafe void TransformFilter(Vector256<double>* taps, int k, Vector256<double>* dst, int stride)
        {
            if (k == 5)
            {
                TransformFilter(taps[0], taps[1], taps[2], taps[3], taps[4], dst, stride);
            }
            else
            {
                TransformFilter(taps[0], taps[1], taps[2], dst, stride);
            }
        }

        // G·(a..e): the eight filter values at the points 0, 1, −1, 2, −2, ½, −½, ∞.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void TransformFilter(Vector256<double> a, Vector256<double> b, Vector256<double> c, Vector256<double> d, Vector256<double> e, Vector256<double>* dst, int stride)
        {
            var (even, odd) = (a + c + e, b + d);
            var (even2, odd2) = (a + Vector256.Create(4.0) * c + Vector256.Create(16.0) * e, Vector256.Create(2.0) * b + Vector256.Create(8.0) * d);
            var (evenHalf, oddHalf) = (Vector256.Create(16.0) * a + Vector256.Create(4.0) * c + e, Vector256.Create(8.0) * b + Vector256.Create(2.0) * d);
            dst[0] = a * Vector256.Create(0.25);
            dst[stride] = (even + odd) * Vector256.Create(1.0 / 18);
            dst[2 * stride] = (even - odd) * Vector256.Create(1.0 / 18);
            dst[3 * stride] = (even2 + odd2) * Vector256.Create(1.0 / 360);
            dst[4 * stride] = (even2 - odd2) * Vector256.Create(1.0 / 360);
            dst[5 * stride] = (evenHalf + oddHalf) * Vector256.Create(1.0 / 45);
            dst[6 * stride] = (evenHalf - oddHalf) * Vector256.Create(1.0 / 45);
            dst[7 * stride] = e * Vector256.Create(0.25);
        }

        // Tiles [lo, hi) of the chunk, a block at a time: transform inputs, 64 products, transform outputs.
        private static unsafe void Part(void* state, int part, int parts)
        {
            ref readonly var job = ref *(Job*)state;
            var wg = job.Winograd;
            var (c, n) = (wg.C, wg.N);
            var inputs = job.Parts + (long)Workers.Thread * wg.PartFloats;
            var products = inputs + (long)Points * wg.InputStride;
            var rows = stackalloc float*[Gemm.MR];
            var tile = stackalloc float[Gemm.MR * Gemm.NR];
            var tiles = job.Count * wg._tilesH * wg._tilesW;
            // Fewer tiles than a block per thread (one image has 16) are shared out in smaller blocks: a row's products
            // do not depend on which others share its GEMM, so the bits stay the same.
            var block = Math.Clamp((tiles + Workers.Count - 1) / Workers.Count, 1, Block);
            var (lo, hi) = Gemm.Range(tiles, block, part, parts);
            for (var t0 = lo; t0 < hi; t0 += block)
            {
                var count = Math.Min(block, hi - t0);
                for (var i = 0; i < count; i++)
                {
                    if (job.FromPool == null)
                    {
                        wg.TransformInput(job.Source, t0 + i, inputs + (long)i * c, wg.InputStride);
                    }
                    else
                    {
                        wg.TransformPoolInput(*job.FromPool, t0 + i, inputs + (long)i * c, wg.InputStride);
                    }
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
                if (wg._out == 4)
                {
                    wg.TransformOutputs<F4x4>(products, count, t0, job);
                }
                else
                {
                    wg.TransformOutputs<F6x6>(products, count, t0, job);
                }
            }
        }

        // Samples [lo, hi) of the chunk: flags[pixel] = 1 where any channel of the (padded) pixel is nonzero, NaN included;
        // the padding is 0.
        private static unsafe void FlagPart(void* state, int part, int parts)
        {
            ref readonly var job = ref *(Job*)state;
            var g = job.Winograd._plan;
            var (lo, hi) = Gemm.Range(job.Count, 1, part, parts);
            for (var s = lo; s < hi; s++)
            {
                var flags = job.Flags + (long)s * g.Hp * g.Wp;
                new Span<byte>(flags, g.Hp * g.Wp).Clear();
                var src = job.Source + (long)s * g.SrcSample;
                for (var y = 0; y < g.SrcH; y++)
                {
                    var row = flags + (long)(y + g.PadTop) * g.Wp + g.PadLeft;
                    for (var x = 0; x < g.SrcW; x++, src += g.C)
                    {
                        var any = Vector256<float>.Zero;
                        for (var ch = 0; ch < g.C; ch += 8)
                        {
                            any |= ~Vector256.Equals(Vector256.Load(src + ch), Vector256<float>.Zero);
                        }
                        row[x] = any.AsInt32() == Vector256<int>.Zero ? (byte)0 : (byte)1;
                    }
                }
            }
        }

        // The outputs of a block of tiles from their products, each tile's written or pooled. Generic in the output
        // transform, so that its sizes are constants in the code the JIT makes for each.
        private unsafe void TransformOutputs<T>(float* products, int count, int t0, in Job job)
            where T : struct, IOutputTransform
        {
            for (var i = 0; i < count; i++)
            {
                if (!job.Pooled)
                {
                    TransformOutput<T>(products + (long)i * N, ProductStride, t0 + i, job);
                }
                else
                {
                    TransformPooled<T>(products + (long)i * N, ProductStride, t0 + i, job);
                }
            }
        }

        // Bit i·Out + j set where output (i, j) of tile t reads only zeros: its K×K window of the tile's 8×8 input. Each row
        // of the window is eight flag bytes read as one word.
        private unsafe ulong ZeroWindows<T>(byte* flags, int t)
            where T : struct, IOutputTransform
        {
            var (sample, rest) = Math.DivRem(t, _tilesH * _tilesW);
            var (th, tw) = Math.DivRem(rest, _tilesW);
            var rowFlags = _plan.Wp;
            var origin = flags + (long)sample * _plan.Hp * rowFlags + (long)(T.Out * th) * rowFlags + T.Out * tw;
            var rows = stackalloc ulong[Tile];
            for (var r = 0; r < Tile; r++)
            {
                rows[r] = Unsafe.ReadUnaligned<ulong>(origin + (long)r * rowFlags);
            }
            var bytes = (1UL << (8 * T.Kernel)) - 1;
            var zero = 0UL;
            for (var i = 0; i < T.Out; i++)
            {
                var window = rows[i];
                for (var r = 1; r < T.Kernel; r++)
                {
                    window |= rows[i + r];
                }
                for (var j = 0; j < T.Out; j++)
                {
                    // Little-endian: byte j + x of the row is bits 8(j + x) .. 8(j + x) + 7; K bytes from j.
                    if (((window >> (8 * j)) & bytes) == 0)
                    {
                        zero |= 1UL << (i * T.Out + j);
                    }
                }
            }
            return zero;
        }

        // V = B^T d B for tile t, eight channels at a time, read from the unpadded input (rows and columns of the tile
        // outside it are zeros, as the padding would give them); V's point p goes to dst + p·pointStride.
        private unsafe void TransformInput(float* source, int t, float* dst, int pointStride)
        {
            var (sample, rest) = Math.DivRem(t, _tilesH * _tilesW);
            var (th, tw) = Math.DivRem(rest, _tilesW);
            var g = _plan;
            var (y0, x0) = (_out * th - g.PadTop, _out * tw - g.PadLeft);
            var rowStride = g.SrcW * C;
            var origin = source + (long)sample * g.SrcSample + ((long)y0 * g.SrcW + x0) * C;
            // Which of the tile's rows and columns lie inside the input.
            var (rowLo, rowHi) = (Math.Max(-y0, 0), Math.Min(g.SrcH - y0, Tile));
            var (colLo, colHi) = (Math.Max(-x0, 0), Math.Min(g.SrcW - x0, Tile));
            var inside = rowLo == 0 && rowHi == Tile;
            var rowsT = stackalloc Vector256<float>[Points];
            var v = stackalloc Vector256<float>[Tile];
            var d = stackalloc Vector256<float>[Tile];
            for (var ch = 0; ch < C; ch += 8)
            {
                // Columns first: rowsT[r·8 + col] = (B^T d)[r, col].
                for (var col = 0; col < Tile; col++)
                {
                    var p = origin + (long)col * C + ch;
                    if (col < colLo || col >= colHi)
                    {
                        for (var r = 0; r < Tile; r++)
                        {
                            rowsT[r * Tile + col] = Vector256<float>.Zero;
                        }
                        continue;
                    }
                    if (inside)
                    {
                        BT(Vector256.Load(p), Vector256.Load(p + rowStride), Vector256.Load(p + 2 * rowStride), Vector256.Load(p + 3 * rowStride),
                            Vector256.Load(p + 4 * rowStride), Vector256.Load(p + 5 * rowStride), Vector256.Load(p + 6 * rowStride),
                            Vector256.Load(p + 7 * rowStride), rowsT + col, Tile);
                        continue;
                    }
                    for (var r = 0; r < Tile; r++)
                    {
                        d[r] = r >= rowLo && r < rowHi ? Vector256.Load(p + (long)r * rowStride) : Vector256<float>.Zero;
                    }
                    BT(d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], rowsT + col, Tile);
                }
                TransformRows(rowsT, v, dst + ch, pointStride);
            }
        }

        // The second pass of B^T d B: row r of rowsT (B^T d) times B, point r·8 + col to dst + (r·8 + col)·pointStride.
        private static unsafe void TransformRows(Vector256<float>* rowsT, Vector256<float>* v, float* dst, int pointStride)
        {
            for (var r = 0; r < Tile; r++)
            {
                var row = rowsT + r * Tile;
                BT(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], v, 1);
                for (var col = 0; col < Tile; col++)
                {
                    v[col].Store(dst + (long)(r * Tile + col) * pointStride);
                }
            }
        }

        // B^T·(d0..d7), its rows paired as even ± odd parts.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void BT(Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3,
            Vector256<float> d4, Vector256<float> d5, Vector256<float> d6, Vector256<float> d7, Vector256<float>* dst, int stride)
        {
            var (two, four, five, seventeen, twentyOne) = (Vector256.Create(2f), Vector256.Create(4f), Vector256.Create(5f), Vector256.Create(17f), Vector256.Create(21f));
            dst[0] = Vector256.FusedMultiplyAdd(twentyOne, d4 - d2, four * (d0 - d6));
            var even = Vector256.FusedMultiplyAdd(seventeen, d4, -four * (d2 + d6));
            var odd = Vector256.FusedMultiplyAdd(seventeen, d3, -four * (d1 + d5));
            dst[stride] = even + odd;
            dst[2 * stride] = even - odd;
            even = Vector256.FusedMultiplyAdd(four, d6, Vector256.FusedMultiplyAdd(-five, d4, d2));
            odd = two * Vector256.FusedMultiplyAdd(four, d5, Vector256.FusedMultiplyAdd(-five, d3, d1));
            dst[3 * stride] = even + odd;
            dst[4 * stride] = even - odd;
            even = two * Vector256.FusedMultiplyAdd(four, d2, Vector256.FusedMultiplyAdd(-five, d4, d6));
            odd = Vector256.FusedMultiplyAdd(four, d1, Vector256.FusedMultiplyAdd(-five, d3, d5));
            dst[5 * stride] = even + odd;
            dst[6 * stride] = even - odd;
            dst[7 * stride] = Vector256.FusedMultiplyAdd(twentyOne, d3 - d5, four * (d7 - d1));
        }

        // y = act(A^T M A + bias) for the Out×Out outputs of tile t that lie inside the output.
        private unsafe void TransformOutput<T>(float* m, int pointStride, int t, in Job job)
            where T : struct, IOutputTransform
        {
            var (sample, rest) = Math.DivRem(t, _tilesH * _tilesW);
            var (th, tw) = Math.DivRem(rest, _tilesW);
            var g = job.Geometry;
            var (rows, cols) = (Math.Min(T.Out, g.OutH - T.Out * th), Math.Min(T.Out, g.OutW - T.Out * tw));
            var y = stackalloc Vector256<float>[T.Out * T.Out];
            var zero = job.Flags == null ? 0 : ZeroWindows<T>(job.Flags, t);
            for (var ch = 0; ch < N; ch += 8)
            {
                TransformTile<T>(m + ch, pointStride, job.Bias == null ? Vector256<float>.Zero : Vector256.Load(job.Bias + ch), zero, y);
                for (var i = 0; i < rows; i++)
                {
                    var at = job.Output + ((long)(sample * g.OutH + T.Out * th + i) * g.OutW + T.Out * tw) * N + ch;
                    for (var j = 0; j < cols; j++)
                    {
                        Activate(y[i * T.Out + j], job.Act).Store(at + (long)j * N);
                    }
                }
            }
        }

        // y[i·Out + j] = (A^T M A)[i, j] + bias for the eight channels at m, or exactly bias where `zero` has bit i·Out + j;
        // point p of M is at m + p·pointStride.
        private static unsafe void TransformTile<T>(float* m, int pointStride, Vector256<float> bias, ulong zero, Vector256<float>* y)
            where T : struct, IOutputTransform
        {
            var cols = stackalloc Vector256<float>[T.Out * Tile];
            for (var col = 0; col < Tile; col++)
            {
                var p = m + (long)col * pointStride;
                var stride = (long)Tile * pointStride;
                T.AT(Vector256.Load(p), Vector256.Load(p + stride), Vector256.Load(p + 2 * stride), Vector256.Load(p + 3 * stride),
                    Vector256.Load(p + 4 * stride), Vector256.Load(p + 5 * stride), Vector256.Load(p + 6 * stride), Vector256.Load(p + 7 * stride),
                    default, addBias: false, cols + col, Tile);
            }
            for (var i = 0; i < T.Out; i++)
            {
                var r = cols + i * Tile;
                T.AT(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bias, addBias: true, y + i * T.Out, 1);
            }
            for (; zero != 0; zero &= zero - 1)
            {
                y[System.Numerics.BitOperations.TrailingZeroCount(zero)] = bias;
            }
        }

        // A^T·(m0..m7), + bias in the second pass: the four outputs from the values at 0, ±1, ±2, ±½ and ∞. addBias is
        // a constant at every call, so the JIT keeps one of the two forms.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void AT(Vector256<float> m0, Vector256<float> m1, Vector256<float> m2, Vector256<float> m3,
            Vector256<float> m4, Vector256<float> m5, Vector256<float> m6, Vector256<float> m7, Vector256<float> bias, bool addBias, Vector256<float>* dst, int stride)
        {
            var (s1, t1, s2, t2, s3, t3) = (m1 + m2, m1 - m2, m3 + m4, m3 - m4, m5 + m6, m5 - m6);
            var y0 = m0 + s1 + s2 + s3;
            var y1 = Vector256.FusedMultiplyAdd(Vector256.Create(2f), t2, Vector256.FusedMultiplyAdd(Vector256.Create(0.5f), t3, t1));
            var y2 = Vector256.FusedMultiplyAdd(Vector256.Create(4f), s2, Vector256.FusedMultiplyAdd(Vector256.Create(0.25f), s3, s1));
            var y3 = Vector256.FusedMultiplyAdd(Vector256.Create(8f), t2, Vector256.FusedMultiplyAdd(Vector256.Create(0.125f), t3, t1)) + m7;
            (dst[0], dst[stride], dst[2 * stride], dst[3 * stride]) = addBias ? (y0 + bias, y1 + bias, y2 + bias, y3 + bias) : (y0, y1, y2, y3);
        }

        // The pool windows over tile t's outputs (2×2 of them for 4×4 outputs, 3×3 for 6×6), each in MaxPool2D.Forward's
        // order (row-major, strictly greater replaces, only cells inside the output); windows past the pool's output (valid
        // pooling of an odd size) are dropped.
        private unsafe void TransformPooled<T>(float* m, int pointStride, int t, in Job job)
            where T : struct, IOutputTransform
        {
            var (sample, rest) = Math.DivRem(t, _tilesH * _tilesW);
            var (th, tw) = Math.DivRem(rest, _tilesW);
            var (g, pool) = (job.Geometry, job.Pool);
            var per = T.Out / 2;
            var (windowsH, windowsW) = (Math.Min(per, pool.OutH - per * th), Math.Min(per, pool.OutW - per * tw));
            if (windowsH <= 0 || windowsW <= 0)
            {
                return;
            }
            var (rows, cols) = (Math.Min(T.Out, g.OutH - T.Out * th), Math.Min(T.Out, g.OutW - T.Out * tw));
            var y = stackalloc Vector256<float>[T.Out * T.Out];
            var lanesOut = stackalloc float[8];
            var zero = ZeroWindows<T>(job.Flags, t);
            for (var ch = 0; ch < N; ch += 8)
            {
                TransformTile<T>(m + ch, pointStride, Vector256.Load(job.Bias + ch), zero, y);
                for (var k = 0; k < T.Out * T.Out; k++)
                {
                    y[k] = Activate(y[k], job.Act, lanesOut);
                }
                for (var wy = 0; wy < windowsH; wy++)
                {
                    for (var wx = 0; wx < windowsW; wx++)
                    {
                        var (i0, j0) = (2 * wy, 2 * wx);
                        var first = ((T.Out * th + i0) * g.OutW + T.Out * tw + j0) * N + ch;
                        var max = y[i0 * T.Out + j0];
                        var lanes = Vector256.Create(first) + Vector256<int>.Indices;
                        var at = lanes;
                        var (right, down) = (j0 + 1 < cols, i0 + 1 < rows);
                        if (right)
                        {
                            Take(y[i0 * T.Out + j0 + 1], lanes + Vector256.Create(N), ref max, ref at);
                        }
                        if (down)
                        {
                            var below = lanes + Vector256.Create(g.OutW * N);
                            Take(y[(i0 + 1) * T.Out + j0], below, ref max, ref at);
                            if (right)
                            {
                                Take(y[(i0 + 1) * T.Out + j0 + 1], below + Vector256.Create(N), ref max, ref at);
                            }
                        }
                        var o = ((long)(sample * pool.OutH + per * th + wy) * pool.OutW + per * tw + wx) * N + ch;
                        max.Store(job.Output + o);
                        if (job.Argmax != null)
                        {
                            at.Store(job.Argmax + o);
                        }
                    }
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Take(Vector256<float> v, Vector256<int> index, ref Vector256<float> max, ref Vector256<int> at)
        {
            var greater = Vector256.GreaterThan(v, max);
            max = Vector256.ConditionalSelect(greater, v, max);
            at = Vector256.ConditionalSelect(greater.AsInt32(), index, at);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Activate(Vector256<float> v, Epilogue act) =>
            act == Epilogue.Relu ? Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, Vector256<float>.Zero) : v;

        // Every activation, all but linear and ReLU through Activations' scalar code as the unfused forward applies them.
        // Inlined, so that the common activations cost no call per vector.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe Vector256<float> Activate(Vector256<float> v, Epilogue act, float* lanes) =>
            act is not (Epilogue.Linear or Epilogue.Relu) ? ActivateLanes(v, act, lanes) : Activate(v, act);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static unsafe Vector256<float> ActivateLanes(Vector256<float> v, Epilogue act, float* lanes)
        {
            v.Store(lanes);
            Activations.Forward(new Span<float>(lanes, 8), act);
            return Vector256.Load(lanes);
        }

        // The output side of one tile size, as constants and A^T: F(4×4, 5×5) or F(6×6, 3×3) (Winograd3.cs).
        private interface IOutputTransform
        {
            static abstract int Out { get; }

            static abstract int Kernel { get; }

            static abstract unsafe void AT(Vector256<float> m0, Vector256<float> m1, Vector256<float> m2, Vector256<float> m3,
                Vector256<float> m4, Vector256<float> m5, Vector256<float> m6, Vector256<float> m7, Vector256<float> bias, bool addBias, Vector256<float>* dst, int stride);
        }

        private readonly struct F4x4 : IOutputTransform
        {
            public static int Out => 4;

            public static int Kernel => 5;

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public static unsafe void AT(Vector256<float> m0, Vector256<float> m1, Vector256<float> m2, Vector256<float> m3,
                Vector256<float> m4, Vector256<float> m5, Vector256<float> m6, Vector256<float> m7, Vector256<float> bias, bool addBias, Vector256<float>* dst, int stride) =>
                Winograd.AT(m0, m1, m2, m3, m4, m5, m6, m7, bias, addBias, dst, stride);
        }

        private readonly unsafe struct WeightJob(Winograd winograd, float* w, float* dst)
        {
            public readonly Winograd Winograd = winograd;
            public readonly float* W = w, Dst = dst;
        }

        private readonly unsafe struct Job(Winograd winograd, ConvGeometry geometry, float* source, MaxPool2D.Lists* fromPool, byte* flags, float* weights, float* bias, Epilogue act, float* output, int* argmax, bool pooled, PoolGeometry pool, int count, float* parts)
        {
            public readonly MaxPool2D.Lists* FromPool = fromPool;
            public readonly Winograd Winograd = winograd;
            public readonly ConvGeometry Geometry = geometry;
            public readonly PoolGeometry Pool = pool;
            public readonly float* Source = source, Weights = weights, Bias = bias, Output = output, Parts = parts;
            public readonly int* Argmax = argmax;
            public readonly bool Pooled = pooled;
            public readonly byte* Flags = flags;
            public readonly Epilogue Act = act;
            public readonly int Count = count;
        }
    }
}
