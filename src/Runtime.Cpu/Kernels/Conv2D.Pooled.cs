using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu;

public static partial class Conv2D
{
    /// <summary>
    /// y = maxpool(act(conv(x, w) + bias)) and the pool's argmax, as <see cref="Forward"/> then
    /// <see cref="MaxPool2D.Forward"/> would give them (bit for bit, except that a convolution Forward would run as
    /// Winograd under a pool off the 2×2 grid of its tiles is computed here by the implicit GEMM), without writing the
    /// convolution's output to memory: each part
    /// pools the few rows of output one row of windows reads while they are still in cache (or, on the Winograd path
    /// with 2×2 windows on the tile grid, pools each tile's 4×4 outputs, four windows, as they are transformed). For non-overlapping
    /// windows (stride = pool size), every Keras pool with the default stride. An empty argmax (inference) is not written.
    /// </summary>
    /// <remarks><paramref name="transformed"/>, where given, keeps the Winograd transform of w between calls.</remarks>
    public static void ForwardPooled(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Span<int> argmax, int batch, in ConvGeometry g, Epilogue act, in PoolGeometry pool, Span<float> scratch, TransformedKernel? transformed = null)
    {
        CheckShapes(batch, g, x.Length, nameof(x), w.Length, nameof(w), batch * g.OutSize, nameof(y), scratch.Length);
        Check.Length(bias.Length, g.OutC, nameof(bias));
        CheckPool(g, pool);
        Check.Length(y.Length, (long)batch * pool.OutSize, nameof(y));
        MaxPool2D.CheckArgmax(argmax.Length, y.Length);
        Check.AtLeast(scratch.Length, ScratchSize(batch, g, pool), "scratch");
        Activations.CheckDefined(act, nameof(act));
        ForwardPooledBy(Conv2DPlan.Choose(g, pool, dataGradient: false, batch).Forward, x, w, bias, y, argmax, batch, g, act, pool, scratch, transformed);
    }

    /// <summary>Floats of scratch that every kernel of a convolution followed by <paramref name="pool"/> needs, <see cref="ForwardPooled"/> included.</summary>
    public static int ScratchSize(int batch, in ConvGeometry g, in PoolGeometry pool)
    {
        CheckPool(g, pool);
        var data = Serves(Conv2DDataPath.WinogradThroughPool, g, pool) ? DataScratch(Conv2DDataPath.WinogradThroughPool, batch, g, pool) : 0;
        return Math.Max(Math.Max(ScratchSize(batch, g), data), ForwardScratch(Conv2DForwardPath.ImplicitGemm, batch, g, pool));
    }

    /// <summary>Runs forward path <paramref name="path"/> fused with <paramref name="pool"/>; shapes and scratch already checked.</summary>
    internal static void ForwardPooledBy(Conv2DForwardPath path, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Span<int> argmax, int batch, in ConvGeometry g, Epilogue act, in PoolGeometry pool, Span<float> scratch, TransformedKernel? transformed)
    {
        if (path == Conv2DForwardPath.Winograd)
        {
            Winograd.For(g)!.Value.ConvolvePooled(x, w, bias, act, y, argmax, batch, g, pool, scratch, transformed);
            return;
        }
        ImplicitGemm.ForForward(g).ConvolvePooled(x, w, bias, act, y, argmax, batch, pool, scratch);
    }

    internal static void CheckPool(in ConvGeometry g, in PoolGeometry pool)
    {
        g.Validate();
        pool.Validate();
        if (pool.InH != g.OutH || pool.InW != g.OutW || pool.Channels != g.OutC)
        {
            throw new ArgumentException($"The pool reads {pool.InH}×{pool.InW}×{pool.Channels} but the convolution writes {g.OutH}×{g.OutW}×{g.OutC}.", nameof(pool));
        }
        if (pool.Stride != pool.Pool)
        {
            throw new ArgumentException($"Fused pooling needs non-overlapping windows; this pool has size {pool.Pool} and stride {pool.Stride}.", nameof(pool));
        }
    }

    private readonly partial record struct ImplicitGemm
    {
        /// <summary>One thread's rows of convolution output: the rows of one row of windows, and room for a last whole tile.</summary>
        public int BandFloats(in PoolGeometry pool) => Aligned((pool.Pool * OutW + Gemm.MR - 1) * N);

        public unsafe void ConvolvePooled(ReadOnlySpan<float> src, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Epilogue act, Span<float> y, Span<int> argmax, int batch, in PoolGeometry pool, Span<float> scratch)
        {
            var chunk = ChunkSamples(batch);
            fixed (float* ps = src, pw = w, pb = bias, py = y, pscratch = scratch)
            fixed (int* pargmax = argmax)
            {
                PackWeights(pw, transposed: false, pscratch);
                var padded = pscratch + PackedWeights;
                var bands = Align(padded + (long)chunk * PaddedSample + Gemm.PackSlack);
                for (var s0 = 0; s0 < batch; s0 += chunk)
                {
                    var count = Math.Min(chunk, batch - s0);
                    Pad(ps + (long)s0 * SrcSample, padded, count);
                    var job = new PooledJob(this, padded, pscratch, pb, act, py + (long)s0 * pool.OutSize, pargmax == null ? null : pargmax + (long)s0 * pool.OutSize, count, pool, bands);
                    Workers.Run(&PooledPart, &job, Workers.PartsFor((long)count * Pixels * Patch * N, MinimumPartMacs));
                }
            }
        }

        // Rows of windows [lo, hi) of the chunk (sample-major): convolve the rows they read into this thread's band, pool.
        private static unsafe void PooledPart(void* state, int part, int parts)
        {
            ref readonly var job = ref *(PooledJob*)state;
            var g = job.Plan;
            var pool = job.Pool;
            var band = job.Bands + (long)Workers.Thread * g.BandFloats(pool);
            var tile = stackalloc float[Gemm.MR * Gemm.NR];
            var rows = stackalloc float*[Gemm.MR];
            var relu = job.Act == Epilogue.Relu;
            var (lo, hi) = Gemm.Range(job.Count * pool.OutH, 1, part, parts);
            for (var u = lo; u < hi; u++)
            {
                var (s, ph) = Math.DivRem(u, pool.OutH);
                var top = ph * pool.Stride - pool.PadTop;
                var (ohLo, ohHi) = (Math.Max(top, 0), Math.Min(top + pool.Pool, g.OutH));
                var pixels = Math.Max(ohHi - ohLo, 0) * g.OutW;
                var cursor = new Cursor(g, (s * g.OutH + ohLo) * g.OutW);
                for (var i0 = 0; i0 < pixels; i0 += Gemm.MR)
                {
                    var mr = Math.Min(Gemm.MR, pixels - i0);
                    for (var i = 0; i < Gemm.MR; i++)
                    {
                        rows[i] = i < mr ? job.Padded + cursor.Next() : rows[0];
                    }
                    for (var jr = 0; jr < g.N; jr += Gemm.NR)
                    {
                        var c = band + (long)i0 * g.N + jr;
                        var b = job.Weights + (long)jr * g.Patch;
                        var nr = Math.Min(Gemm.NR, g.N - jr);
                        if (Fma.IsSupported)
                        {
                            // A whole tile even at the band's end: the extra rows repeat the first into the band's slack,
                            // which costs less than the edge-tile store.
                            TileFma(rows, g.K, g.RowStride, g.KernelRow, b, c, g.N, Gemm.MR, nr, job.Bias + jr, relu, tile);
                        }
                        else
                        {
                            TileScalar(rows, g.K, g.RowStride, g.KernelRow, b, c, g.N, mr, nr, job.Bias + jr, relu);
                        }
                    }
                }
                if (job.Act is not (Epilogue.Linear or Epilogue.Relu))
                {
                    Activations.Forward(new Span<float>(band, pixels * g.N), job.Act);
                }
                // The band holds rows [ohLo, ohHi) of the pool's input, exactly the ones this row of windows reads: shifted
                // back by ohLo rows it reads like the whole sample, and argmax indexes the whole sample.
                var o = (long)(s * pool.OutH + ph) * pool.OutW * g.N;
                MaxPool2D.Row(band - (long)ohLo * g.OutW * g.N, pool, ph, job.Output + o, job.Argmax == null ? null : job.Argmax + o);
            }
        }

        private readonly unsafe struct PooledJob(ImplicitGemm plan, float* padded, float* weights, float* bias, Epilogue act, float* output, int* argmax, int count, PoolGeometry pool, float* bands)
        {
            public readonly ImplicitGemm Plan = plan;
            public readonly float* Padded = padded, Weights = weights, Bias = bias, Output = output, Bands = bands;
            public readonly int* Argmax = argmax;
            public readonly Epilogue Act = act;
            public readonly int Count = count;
            public readonly PoolGeometry Pool = pool;
        }
    }
}
