using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu;

public static partial class Conv2D
{
    // Below this many multiply-adds per part, waking a worker costs more than it saves.
    private const long MinimumPartMacs = 1 << 18;

    /// <summary>
    /// A convolution read as C[pixels × N] = A·B without materialising A: the source [SrcH, SrcW, C] is copied into a
    /// zero-padded [Hp, Wp, C] buffer, and row t = (sample, oh, ow) of A is A(t, kh·KernelRow + q) = padded[Base(t) + kh·RowStride + q]
    /// for q &lt; KernelRow = K·C, with Base(t) = ((sample·Hp + oh·Stride)·Wp + ow·Stride)·C. B is the kernel as [K·K·C, N].
    /// </summary>
    private readonly partial record struct ImplicitGemm(int SrcH, int SrcW, int C, int PadTop, int PadLeft, int Hp, int Wp, int Stride, int K, int OutH, int OutW, int N)
    {
        internal int SrcSample => SrcH * SrcW * C;
        internal int PaddedSample => Hp * Wp * C;
        private int Pixels => OutH * OutW;
        private int KernelRow => K * C;
        internal int RowStride => Wp * C;
        private int Patch => K * KernelRow;
        private int PackedWeights => Patch * ((N + Gemm.NR - 1) / Gemm.NR * Gemm.NR);

        /// <summary>y = conv(x, w): pixels of the output, N = OutC, C = InC.</summary>
        public static ImplicitGemm ForForward(in ConvGeometry g) =>
            new(g.InH, g.InW, g.InC, g.PadTop, g.PadLeft, (g.OutH - 1) * g.Stride + g.Kernel, (g.OutW - 1) * g.Stride + g.Kernel, g.Stride, g.Kernel, g.OutH, g.OutW, g.OutC);

        /// <summary>
        /// For stride 1, dx[ih, iw, ic] = Σ dz[ih + kh − (K−1−PadTop), iw + kw − (K−1−PadLeft), oc]·w[K−1−kh, K−1−kw, ic, oc]:
        /// a forward convolution of dz, so pixels of dx, N = InC, C = OutC. Null for strides that need col2im.
        /// </summary>
        public static ImplicitGemm? ForBackwardData(in ConvGeometry g) =>
            g.Stride != 1 || g.PadTop >= g.Kernel || g.PadLeft >= g.Kernel
                ? null
                : new(g.OutH, g.OutW, g.OutC, g.Kernel - 1 - g.PadTop, g.Kernel - 1 - g.PadLeft, g.InH + g.Kernel - 1, g.InW + g.Kernel - 1, 1, g.Kernel, g.InH, g.InW, g.InC);

        internal int ChunkSamples(int batch) => Math.Clamp(ScratchFloats / PaddedSample, 1, batch);

        /// <summary>Packed kernel, then one padded chunk of samples, then room for the packing's overreach.</summary>
        public int ScratchSize(int batch) => PackedWeights + ChunkSamples(batch) * PaddedSample + Gemm.PackSlack;

        /// <summary>y = max?(A·B + bias, 0) (no epilogue when bias is empty); B is w, flipped and transposed when <paramref name="transposed"/>.</summary>
        public unsafe void Convolve(ReadOnlySpan<float> src, ReadOnlySpan<float> w, bool transposed, ReadOnlySpan<float> bias, bool relu, Span<float> y, int batch, Span<float> scratch)
        {
            var chunk = ChunkSamples(batch);
            fixed (float* ps = src, pw = w, pb = bias, py = y, pscratch = scratch)
            {
                PackWeights(pw, transposed, pscratch);
                for (var s0 = 0; s0 < batch; s0 += chunk)
                {
                    var count = Math.Min(chunk, batch - s0);
                    var job = new Job(this, ps + (long)s0 * SrcSample, pscratch + PackedWeights, pscratch, count, py + (long)s0 * Pixels * N, bias.IsEmpty ? null : pb, relu, first: false);
                    Workers.Run(&PadPart, &job, Workers.PartsFor(count, 1));
                    Workers.Run(&ForwardPart, &job, Workers.PartsFor((long)count * Pixels * Patch * N, MinimumPartMacs));
                }
            }
        }

        /// <summary>dw[p, n] = Σ_t A(t, p)·dz[t, n] over all pixels t of the batch, ascending, in <see cref="Gemm.KC"/>-row slices.</summary>
        public unsafe void WeightGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dz, Span<float> dw, int batch, Span<float> scratch)
        {
            var chunk = ChunkSamples(batch);
            fixed (float* px = x, pdz = dz, pdw = dw, pscratch = scratch)
            {
                for (var s0 = 0; s0 < batch; s0 += chunk)
                {
                    var count = Math.Min(chunk, batch - s0);
                    var job = new Job(this, px + (long)s0 * SrcSample, pscratch + PackedWeights, pdz + (long)s0 * Pixels * N, count, pdw, null, relu: false, first: s0 == 0);
                    Workers.Run(&PadPart, &job, Workers.PartsFor(count, 1));
                    Workers.Run(&GradientPart, &job, Workers.ThreadsFor((long)count * Pixels * Patch * N, MinimumPartMacs));
                }
            }
        }

        /// <summary>Copies <paramref name="count"/> samples into the zero-padded layout, on all cores.</summary>
        internal unsafe void Pad(float* src, float* padded, int count)
        {
            var job = new Job(this, src, padded, null, count, null, null, relu: false, first: false);
            Workers.Run(&PadPart, &job, Workers.PartsFor(count, 1));
        }

        // B(p, j) in Gemm.NR-column panels over the whole patch: panel j0 starts at dst + j0·Patch.
        private unsafe void PackWeights(float* w, bool transposed, float* dst)
        {
            if (!transposed)
            {
                Gemm.PackB(w, N, 1, Patch, N, dst);
                return;
            }
            for (var j0 = 0; j0 < N; j0 += Gemm.NR)
            {
                for (var p = 0; p < Patch; p++)
                {
                    var (kh, rest) = Math.DivRem(p, KernelRow);
                    var (kw, c) = Math.DivRem(rest, C);
                    for (var j = 0; j < Gemm.NR; j++)
                    {
                        var col = j0 + j;
                        *dst++ = col >= N ? 0f : w[((long)((K - 1 - kh) * K + K - 1 - kw) * N + col) * C + c];
                    }
                }
            }
        }

        // Samples [lo, hi) of the chunk: every element of the padded buffer is written once, zero or copied.
        private static unsafe void PadPart(void* state, int part, int parts)
        {
            ref readonly var job = ref *(Job*)state;
            var g = job.Plan;
            var (lo, hi) = Gemm.Range(job.Count, 1, part, parts);
            for (var s = lo; s < hi; s++)
            {
                g.PadSample(job.Source + (long)s * g.SrcSample, job.Padded + (long)s * g.PaddedSample);
            }
        }

        /// <summary>One sample of the source into the padded layout; every element written once, zero or copied.</summary>
        internal unsafe void PadSample(float* src, float* dst)
        {
            var row = RowStride;
            var left = Math.Min(PadLeft, Wp) * C;
            var copy = Math.Max(Math.Min(SrcW, Wp - PadLeft), 0) * C;
            for (var r = 0; r < Hp; r++, dst += row)
            {
                var sr = r - PadTop;
                if (sr < 0 || sr >= SrcH)
                {
                    new Span<float>(dst, row).Clear();
                    continue;
                }
                new Span<float>(dst, left).Clear();
                new ReadOnlySpan<float>(src + (long)sr * SrcW * C, copy).CopyTo(new Span<float>(dst + left, copy));
                new Span<float>(dst + left + copy, row - left - copy).Clear();
            }
        }

        // Output rows [lo, hi) of the chunk, whole micro-tiles, every column panel.
        private static unsafe void ForwardPart(void* state, int part, int parts)
        {
            ref readonly var job = ref *(Job*)state;
            var g = job.Plan;
            var (lo, hi) = Gemm.Range(job.Count * g.Pixels, Gemm.MR, part, parts);
            var tile = stackalloc float[Gemm.MR * Gemm.NR];
            var rows = stackalloc float*[Gemm.MR];
            var cursor = new Cursor(g, lo);
            for (var t0 = lo; t0 < hi; t0 += Gemm.MR)
            {
                var mr = Math.Min(Gemm.MR, hi - t0);
                for (var i = 0; i < Gemm.MR; i++)
                {
                    // Rows past the end repeat the first; their sums are computed and dropped.
                    rows[i] = i < mr ? job.Padded + cursor.Next() : rows[0];
                }
                for (var jr = 0; jr < g.N; jr += Gemm.NR)
                {
                    var c = job.Output + (long)t0 * g.N + jr;
                    var bias = job.Bias == null ? null : job.Bias + jr;
                    var b = job.Weights + (long)jr * g.Patch;
                    if (Fma.IsSupported && g.N - jr <= Gemm.NR / 2)
                    {
                        TileFmaNarrow(rows, g.K, g.RowStride, g.KernelRow, b, c, g.N, mr, g.N - jr, bias, job.Relu);
                    }
                    else if (Fma.IsSupported)
                    {
                        TileFma(rows, g.K, g.RowStride, g.KernelRow, b, c, g.N, mr, Math.Min(Gemm.NR, g.N - jr), bias, job.Relu, tile);
                    }
                    else
                    {
                        TileScalar(rows, g.K, g.RowStride, g.KernelRow, b, c, g.N, mr, Math.Min(Gemm.NR, g.N - jr), bias, job.Relu);
                    }
                }
            }
        }

        // Rows [lo, hi) of dw (patch positions), over every pixel of the chunk, through Gemm's packed micro-kernel.
        private static unsafe void GradientPart(void* state, int part, int parts)
        {
            ref readonly var job = ref *(Job*)state;
            var g = job.Plan;
            var (lo, hi) = Gemm.Range(g.Patch, Gemm.MR, part, parts);
            if (lo >= hi)
            {
                return;
            }
            var rows = job.Count * g.Pixels;
            var tile = stackalloc float[Gemm.MR * Gemm.NR];
            var bases = stackalloc long[Gemm.KC];
            var (packA, packB) = Gemm.PackBuffers();
            fixed (float* ap = packA, bp = packB)
            {
                for (var r0 = 0; r0 < rows; r0 += Gemm.KC)
                {
                    var kc = Math.Min(Gemm.KC, rows - r0);
                    var overwrite = job.First && r0 == 0;
                    var cursor = new Cursor(g, r0);
                    for (var r = 0; r < kc; r++)
                    {
                        bases[r] = cursor.Next();
                    }
                    for (var jc = 0; jc < g.N; jc += Gemm.NC)
                    {
                        var nc = Math.Min(Gemm.NC, g.N - jc);
                        Gemm.PackB(job.Weights + (long)r0 * g.N + jc, g.N, 1, kc, nc, bp);
                        for (var ic = lo; ic < hi; ic += Gemm.MC)
                        {
                            var mc = Math.Min(Gemm.MC, hi - ic);
                            g.PackTransposed(job.Padded, bases, ic, mc, kc, ap);
                            for (var jr = 0; jr < nc; jr += Gemm.NR)
                            {
                                for (var ir = 0; ir < mc; ir += Gemm.MR)
                                {
                                    var c = job.Output + (long)(ic + ir) * g.N + jc + jr;
                                    Gemm.MicroKernel(kc, ap + ir * kc, bp + jr * kc, c, g.N, Math.Min(Gemm.MR, mc - ir), Math.Min(Gemm.NR, nc - jr), overwrite, tile);
                                }
                            }
                        }
                    }
                }
            }
        }

        // Aᵀ rows p0 .. p0+mc−1 over the kc pixels whose padded offsets are `bases`, as Gemm's MR-row panels (rows past
        // the patch are zero).
        private unsafe void PackTransposed(float* padded, long* bases, int p0, int mc, int kc, float* dst)
        {
            var offsets = stackalloc long[Gemm.MR];
            for (var i0 = 0; i0 < mc; i0 += Gemm.MR)
            {
                var valid = Math.Min(Gemm.MR, Patch - (p0 + i0));
                for (var i = 0; i < valid; i++)
                {
                    var (kh, q) = Math.DivRem(p0 + i0 + i, KernelRow);
                    offsets[i] = (long)kh * RowStride + q;
                }
                // Six neighbouring (kw, c) positions of one kernel row are adjacent in the padded source: eight floats
                // moved, six kept; the two extra land in the next slot, written next (the packing buffer and the scratch
                // both have Gemm.PackSlack floats of room past their ends).
                if (Avx.IsSupported && valid == Gemm.MR && offsets[Gemm.MR - 1] - offsets[0] == Gemm.MR - 1)
                {
                    var src = padded + offsets[0];
                    for (var r = 0; r < kc; r++, dst += Gemm.MR)
                    {
                        Avx.Store(dst, Avx.LoadVector256(src + bases[r]));
                    }
                    continue;
                }
                for (var r = 0; r < kc; r++, dst += Gemm.MR)
                {
                    var src = padded + bases[r];
                    var i = 0;
                    for (; i < valid; i++)
                    {
                        dst[i] = src[offsets[i]];
                    }
                    for (; i < Gemm.MR; i++)
                    {
                        dst[i] = 0f;
                    }
                }
            }
        }

        // One MR×NR output tile: 12 accumulators, each k one fused multiply-add per row and column vector.
        internal static unsafe void TileFma(float** rows, int k, int rowStride, int run, float* b, float* c, int ldc, int mr, int nr, float* bias, bool relu, float* tile)
        {
            Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
            Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
            for (var kh = 0; kh < k; kh++)
            {
                var offset = (long)kh * rowStride;
                float* a0 = rows[0] + offset, a1 = rows[1] + offset, a2 = rows[2] + offset;
                float* a3 = rows[3] + offset, a4 = rows[4] + offset, a5 = rows[5] + offset;
                for (var q = 0; q < run; q++)
                {
                    var b0 = Avx.LoadVector256(b);
                    var b1 = Avx.LoadVector256(b + 8);
                    var x = Vector256.Create(a0[q]);
                    c00 = Fma.MultiplyAdd(x, b0, c00);
                    c01 = Fma.MultiplyAdd(x, b1, c01);
                    x = Vector256.Create(a1[q]);
                    c10 = Fma.MultiplyAdd(x, b0, c10);
                    c11 = Fma.MultiplyAdd(x, b1, c11);
                    x = Vector256.Create(a2[q]);
                    c20 = Fma.MultiplyAdd(x, b0, c20);
                    c21 = Fma.MultiplyAdd(x, b1, c21);
                    x = Vector256.Create(a3[q]);
                    c30 = Fma.MultiplyAdd(x, b0, c30);
                    c31 = Fma.MultiplyAdd(x, b1, c31);
                    x = Vector256.Create(a4[q]);
                    c40 = Fma.MultiplyAdd(x, b0, c40);
                    c41 = Fma.MultiplyAdd(x, b1, c41);
                    x = Vector256.Create(a5[q]);
                    c50 = Fma.MultiplyAdd(x, b0, c50);
                    c51 = Fma.MultiplyAdd(x, b1, c51);
                    b += Gemm.NR;
                }
            }
            Gemm.StoreTile(c, ldc, mr, nr, overwrite: true, bias, relu, tile, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
        }

        // TileFma for at most 8 columns (LeNet's 6 filters, a data gradient into 1 to 8 input channels): the packed panel
        // is still NR wide, but only its first vector is multiplied, so a 6-column output no longer spends 16 lanes of
        // FMA per row on 6 results. The same chain of fused multiply-adds per element, so the same bits as TileFma.
        private static unsafe void TileFmaNarrow(float** rows, int k, int rowStride, int run, float* b, float* c, int ldc, int mr, int nr, float* bias, bool relu)
        {
            Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
            for (var kh = 0; kh < k; kh++)
            {
                var offset = (long)kh * rowStride;
                float* a0 = rows[0] + offset, a1 = rows[1] + offset, a2 = rows[2] + offset;
                float* a3 = rows[3] + offset, a4 = rows[4] + offset, a5 = rows[5] + offset;
                for (var q = 0; q < run; q++)
                {
                    var b0 = Avx.LoadVector256(b);
                    c0 = Fma.MultiplyAdd(Vector256.Create(a0[q]), b0, c0);
                    c1 = Fma.MultiplyAdd(Vector256.Create(a1[q]), b0, c1);
                    c2 = Fma.MultiplyAdd(Vector256.Create(a2[q]), b0, c2);
                    c3 = Fma.MultiplyAdd(Vector256.Create(a3[q]), b0, c3);
                    c4 = Fma.MultiplyAdd(Vector256.Create(a4[q]), b0, c4);
                    c5 = Fma.MultiplyAdd(Vector256.Create(a5[q]), b0, c5);
                    b += Gemm.NR;
                }
            }
            ReadOnlySpan<Vector256<float>> sums = [c0, c1, c2, c3, c4, c5];
            var mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(nr)).AsSingle();
            var shift = bias == null ? Vector256<float>.Zero : Avx.MaskLoad(bias, mask);
            for (var r = 0; r < mr; r++)
            {
                // Gemm.StoreTile's epilogue: with a bias, + bias, then max(·, 0) for relu.
                var v = sums[r];
                if (bias != null)
                {
                    v = Avx.Add(v, shift);
                    v = relu ? Avx.Max(v, Vector256<float>.Zero) : v;
                }
                // A row of a single-panel output may write past its end, into the next rows of this tile, which are
                // stored after it; never past the tile, whose next rows may be another thread's.
                if (ldc == nr && (r * nr + Vector256<float>.Count <= mr * nr))
                {
                    Avx.Store(c + (long)r * ldc, v);
                }
                else
                {
                    Avx.MaskStore(c + (long)r * ldc, mask, v);
                }
            }
        }

        // Same arithmetic as TileFma, one element at a time, for CPUs without AVX2/FMA.
        private static unsafe void TileScalar(float** rows, int k, int rowStride, int run, float* b, float* c, int ldc, int mr, int nr, float* bias, bool relu)
        {
            for (var i = 0; i < mr; i++)
            {
                var dst = new Span<float>(c + (long)i * ldc, nr);
                for (var j = 0; j < nr; j++)
                {
                    var sum = 0f;
                    var bj = b + j;
                    for (var kh = 0; kh < k; kh++)
                    {
                        var a = rows[i] + (long)kh * rowStride;
                        for (var q = 0; q < run; q++, bj += Gemm.NR)
                        {
                            sum = MathF.FusedMultiplyAdd(a[q], *bj, sum);
                        }
                    }
                    var v = bias == null ? sum : sum + bias[j];
                    dst[j] = relu && !(v > 0f) ? 0f : v;
                }
            }
        }

        /// <summary>Walks output pixels t in order, yielding Base(t) without a division per pixel.</summary>
        private struct Cursor
        {
            private readonly int _outW, _outH, _step, _rowStep, _sampleStep;
            private int _ow, _oh;
            private long _base;

            public Cursor(in ImplicitGemm g, int t)
            {
                (_outW, _outH) = (g.OutW, g.OutH);
                _step = g.Stride * g.C;
                _rowStep = g.Stride * g.RowStride;
                _sampleStep = g.PaddedSample;
                var (sample, pixel) = Math.DivRem(t, g.Pixels);
                (_oh, _ow) = Math.DivRem(pixel, g.OutW);
                _base = (long)sample * _sampleStep + (long)_oh * _rowStep + (long)_ow * _step;
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public long Next()
            {
                var at = _base;
                if (++_ow < _outW)
                {
                    _base += _step;
                }
                else
                {
                    _ow = 0;
                    _base += _rowStep - (long)(_outW - 1) * _step;
                    if (++_oh == _outH)
                    {
                        _oh = 0;
                        _base += _sampleStep - (long)_outH * _rowStep;
                    }
                }
                return at;
            }
        }

        // One call's operands; lives on the caller's stack while the parts run. Source/Padded: the chunk's input and
        // its padded copy; Weights: packed B (forward) or dz (gradient); Output: y or dw.
        private readonly unsafe struct Job(ImplicitGemm plan, float* source, float* padded, float* weights, int count, float* output, float* bias, bool relu, bool first)
        {
            public readonly ImplicitGemm Plan = plan;
            public readonly float* Source = source, Padded = padded, Weights = weights, Output = output, Bias = bias;
            public readonly int Count = count;
            public readonly bool Relu = relu, First = first;
        }
    }
}
