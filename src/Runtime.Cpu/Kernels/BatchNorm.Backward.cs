using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu;

// The training-mode backward pass: its entry points, its two passes (the gradient sums, then dx) and where each row's
// gradient and f′ come from.
public static partial class BatchNorm
{
    /// <summary>
    /// Training backward from the statistics the training forward wrote. dx (empty: not computed, for a
    /// first layer), dγ (empty when <c>scale=False</c>) and dβ (empty when <c>center=False</c>) are overwritten.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma, ReadOnlySpan<float> batchMean, ReadOnlySpan<float> batchInvStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta, int rows, int channels) =>
        Backward(x, default, dy, Epilogue.Linear, 0f, gamma, default, batchMean, batchInvStd, dx, dgamma, dbeta, rows, channels);

    /// <summary>
    /// The backward pass of <see cref="ForwardTraining(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float}, Span{float}, Span{float}, int, int, float, float, Epilogue, float)"/>
    /// with its activation: <paramref name="dy"/> is the gradient of the activated output, multiplied by f′ element by
    /// element as it is read (dy itself is not written). ReLU's and LeakyReLU's f′ depend only on the sign of the
    /// normalised value z, which is recomputed from x exactly as the forward computed it (so γ and β must be the
    /// forward's), and <paramref name="y"/> is not read (it may be empty); the other activations write f′ from y.
    /// </summary>
    public static unsafe void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Epilogue act, float alpha, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> batchMean, ReadOnlySpan<float> batchInvStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta, int rows, int channels)
    {
        CheckActivation(act, alpha);
        Check.Positive(rows, nameof(rows));
        Check.Positive(channels, nameof(channels));
        Check.Length(x.Length, (long)rows * channels, nameof(x));
        Check.Length(dy.Length, x.Length, nameof(dy));
        if (!DerivativeFromSign(act))
        {
            Check.Length(y.Length, x.Length, nameof(y));
        }
        fixed (float* py = y, pdy = dy)
        {
            BackwardPasses(x, py, pdy, null, default, act, alpha, gamma, beta, batchMean, batchInvStd, dx, dgamma, dbeta, rows, channels);
        }
    }

    // The two passes of the backward, from dy (argmax null) or from the gradient of a max pool's output (dy, argmax
    // and pool: BackwardThroughPool). Checks the per-channel arguments and dx.
    private static unsafe void BackwardPasses(ReadOnlySpan<float> x, float* y, float* dy, int* argmax, in PoolGeometry pool, Epilogue act, float alpha, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> batchMean, ReadOnlySpan<float> batchInvStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta, int rows, int channels)
    {
        Optional(gamma.Length, channels, nameof(gamma));
        Optional(beta.Length, channels, nameof(beta));
        Check.Length(batchMean.Length, channels, nameof(batchMean));
        Check.Length(batchInvStd.Length, channels, nameof(batchInvStd));
        Optional(dx.Length, x.Length, nameof(dx));
        Optional(dgamma.Length, channels, nameof(dgamma));
        Optional(dbeta.Length, channels, nameof(dbeta));
        var chunks = Chunks(rows);
        var partial = ArrayPool<double>.Shared.Rent(2 * chunks * channels);
        // [s | t | Σg/rows | Σg·x̂/rows | γ·invStd]: the forward's affine form, then the per-channel terms of dx.
        var terms = ArrayPool<float>.Shared.Rent(5 * channels);
        try
        {
            Affine(gamma, beta, batchMean, batchInvStd, terms);
            fixed (float* px = x, pm = batchMean, pi = batchInvStd, pdx = dx, pterms = terms)
            fixed (double* pp = partial)
            {
                var job = new Job(px, y, dy, pm, pi, pterms, pp, rows, channels, act, alpha, null, argmax, pool);
                Workers.Run(SumsOf(act, argmax != null), &job, Workers.PartsFor(chunks, 1));
                var sumDy = new Span<float>(pterms + 2 * channels, channels);
                var sumDyXhat = new Span<float>(pterms + 3 * channels, channels);
                Combine(pp, chunks, channels, rows, sumDy, dbeta);
                Combine(pp + (long)chunks * channels, chunks, channels, rows, sumDyXhat, dgamma);
                if (dx.IsEmpty)
                {
                    return;
                }
                for (var c = 0; c < channels; c++)
                {
                    pterms[4 * channels + c] = (gamma.IsEmpty ? 1f : gamma[c]) * batchInvStd[c];
                }
                var dataJob = new Job(px, y, dy, pm, pi, pterms, null, rows, channels, act, alpha, pdx, argmax, pool);
                Workers.Run(DataOf(act, argmax != null), &dataJob, Workers.PartsFor((long)rows * channels, 1 << 14));
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partial);
            ArrayPool<float>.Shared.Return(terms);
        }
    }

    // The passes for an activation and a gradient source (a pool's has no y, so only the activations of the sign).
    private static unsafe delegate*<void*, int, int, void> SumsOf(Epilogue act, bool throughPool) => (act, throughPool) switch
    {
        (Epilogue.Linear, false) => &GradientSumPart<Unchanged, Dense>,
        (Epilogue.Relu, false) => &GradientSumPart<ReluOfSign, Dense>,
        (Epilogue.LeakyRelu, false) => &GradientSumPart<LeakyReluOfSign, Dense>,
        (_, false) => &GradientSumPart<FromOutput, Dense>,
        (Epilogue.Linear, true) => &GradientSumPart<Unchanged, ThroughPool>,
        (Epilogue.Relu, true) => &GradientSumPart<ReluOfSign, ThroughPool>,
        _ => &GradientSumPart<LeakyReluOfSign, ThroughPool>,
    };

    private static unsafe delegate*<void*, int, int, void> DataOf(Epilogue act, bool throughPool) => (act, throughPool) switch
    {
        (Epilogue.Linear, false) => &DataPart<Unchanged, Dense>,
        (Epilogue.Relu, false) => &DataPart<ReluOfSign, Dense>,
        (Epilogue.LeakyRelu, false) => &DataPart<LeakyReluOfSign, Dense>,
        (_, false) => &DataPart<FromOutput, Dense>,
        (Epilogue.Linear, true) => &DataPart<Unchanged, ThroughPool>,
        (Epilogue.Relu, true) => &DataPart<ReluOfSign, ThroughPool>,
        _ => &DataPart<LeakyReluOfSign, ThroughPool>,
    };

    // Chunks [lo, hi): Σ g into the first chunks·C partials, Σ g·x̂ into the next (x̂ rounded to float as in dx), with
    // g = dy·f′ (TGradient).
    private static unsafe void GradientSumPart<TGradient, TSource>(void* state, int part, int parts) where TGradient : struct, IGradient where TSource : struct, ISource
    {
        var at = stackalloc long[BlockRows];
        var cell = stackalloc int[BlockRows];
        ref readonly var job = ref *(Job*)state;
        var chunks = Chunks(job.Rows);
        var (lo, hi) = Gemm.Range(chunks, 1, part, parts);
        var c = job.C;
        var scale = job.Terms;
        var shift = job.Terms + c;
        var mean = job.Mean;
        var invStd = job.InvStd;
        for (var k = lo; k < hi; k++)
        {
            var sumDy = job.Partial + (long)k * c;
            var sumDyXhat = job.Partial + (long)(chunks + k) * c;
            new Span<double>(sumDy, c).Clear();
            new Span<double>(sumDyXhat, c).Clear();
            var end = Math.Min(job.Rows, (k + 1) * ChunkRows);
            for (var first = k * ChunkRows; first < end; first += BlockRows)
            {
                var last = Math.Min(end, first + BlockRows);
                TSource.Locate(job, first, last, at, cell);
                var j = 0;
                if (Avx.IsSupported)
                {
                    for (; j <= c - Vector256<float>.Count; j += Vector256<float>.Count)
                    {
                        var (s, t, m, i) = (Vector256.Load(scale + j), Vector256.Load(shift + j), Vector256.Load(mean + j), Vector256.Load(invStd + j));
                        var (g0, g1) = (Avx.LoadVector256(sumDy + j), Avx.LoadVector256(sumDy + j + 4));
                        var (p0, p1) = (Avx.LoadVector256(sumDyXhat + j), Avx.LoadVector256(sumDyXhat + j + 4));
                        for (var r = first; r < last; r++)
                        {
                            var o = (long)r * c + j;
                            var x = Vector256.Load(job.X + o);
                            var (d0, d1) = Widen(TGradient.Of(x, TSource.Vector(job, at[r - first], cell[r - first], j), s, t, job.Y + o, job.Act, job.Alpha));
                            var (h0, h1) = Widen((x - m) * i);
                            g0 += d0;
                            g1 += d1;
                            p0 += d0 * h0;
                            p1 += d1 * h1;
                        }
                        g0.Store(sumDy + j);
                        g1.Store(sumDy + j + 4);
                        p0.Store(sumDyXhat + j);
                        p1.Store(sumDyXhat + j + 4);
                    }
                }
                for (; j < c; j++)
                {
                    for (var r = first; r < last; r++)
                    {
                        var o = (long)r * c + j;
                        var x = job.X[o];
                        var d = TGradient.Of(x, TSource.Scalar(job, at[r - first], cell[r - first], j), scale[j], shift[j], job.Y + o, job.Act, job.Alpha);
                        sumDy[j] += d;
                        sumDyXhat[j] += (double)d * ((x - mean[j]) * invStd[j]);
                    }
                }
            }
        }
    }

    // Rows [lo, hi): dx = γ·invStd·(g − Σg/rows − x̂·Σg·x̂/rows) with g = dy·f′ (TGradient) and
    // job.Terms = [s | t | Σg/rows | Σg·x̂/rows | γ·invStd].
    private static unsafe void DataPart<TGradient, TSource>(void* state, int part, int parts) where TGradient : struct, IGradient where TSource : struct, ISource
    {
        var at = stackalloc long[BlockRows];
        var cell = stackalloc int[BlockRows];
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Gemm.Range(job.Rows, 1, part, parts);
        var c = job.C;
        var scale = job.Terms;
        var shift = job.Terms + c;
        var meanDy = job.Terms + 2 * c;
        var meanDyXhat = job.Terms + 3 * c;
        var coefficient = job.Terms + 4 * c;
        var mean = job.Mean;
        var invStd = job.InvStd;
        // Blocks of rows in L1, eight channels at a time down the block with their per-channel terms in registers.
        for (var first = lo; first < hi; first += BlockRows)
        {
            var last = Math.Min(hi, first + BlockRows);
            TSource.Locate(job, first, last, at, cell);
            var j = 0;
            // Explicit multiplies and adds (never contracted into FMA), so the vector and scalar bits agree.
            for (; j <= c - Vector256<float>.Count; j += Vector256<float>.Count)
            {
                var (s, t, m, i) = (Vector256.Load(scale + j), Vector256.Load(shift + j), Vector256.Load(mean + j), Vector256.Load(invStd + j));
                var (md, mdx, k) = (Vector256.Load(meanDy + j), Vector256.Load(meanDyXhat + j), Vector256.Load(coefficient + j));
                for (var r = first; r < last; r++)
                {
                    var o = (long)r * c + j;
                    var x = Vector256.Load(job.X + o);
                    var dz = TGradient.Of(x, TSource.Vector(job, at[r - first], cell[r - first], j), s, t, job.Y + o, job.Act, job.Alpha);
                    var xhat = (x - m) * i;
                    (k * (dz - md - xhat * mdx)).Store(job.Out + o);
                }
            }
            for (; j < c; j++)
            {
                for (var r = first; r < last; r++)
                {
                    var o = (long)r * c + j;
                    var x = job.X[o];
                    var dz = TGradient.Of(x, TSource.Scalar(job, at[r - first], cell[r - first], j), scale[j], shift[j], job.Y + o, job.Act, job.Alpha);
                    var xhat = (x - mean[j]) * invStd[j];
                    job.Out[o] = coefficient[j] * (dz - meanDy[j] - xhat * meanDyXhat[j]);
                }
            }
        }
    }

    // dy·f′ of the fused backward's activation at z = x·s + t, a vector of channels or one: the bits of Activations'
    // backward given y = f(z) (ReLU: dy or +0; LeakyReLU: dy or dy·α), y read only by FromOutput.
    private unsafe interface IGradient
    {
        static abstract Vector256<float> Of(Vector256<float> x, Vector256<float> dy, Vector256<float> s, Vector256<float> t, float* y, Epilogue act, float alpha);

        static abstract float Of(float x, float dy, float s, float t, float* y, Epilogue act, float alpha);
    }

    private readonly unsafe struct Unchanged : IGradient, IRowActivation
    {
        public static Vector256<float> Of(Vector256<float> z) => z;

        public static float Of(float z) => z;

        public static Vector256<float> Of(Vector256<float> x, Vector256<float> dy, Vector256<float> s, Vector256<float> t, float* y, Epilogue act, float alpha) => dy;

        public static float Of(float x, float dy, float s, float t, float* y, Epilogue act, float alpha) => dy;
    }

    // y = f(z) > 0 exactly when z > 0 (NaN included), so the sign of z gives the mask Activations takes from y.
    private readonly unsafe struct ReluOfSign : IGradient
    {
        public static Vector256<float> Of(Vector256<float> x, Vector256<float> dy, Vector256<float> s, Vector256<float> t, float* y, Epilogue act, float alpha) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(x * s + t, Vector256<float>.Zero), dy, Vector256<float>.Zero);

        public static float Of(float x, float dy, float s, float t, float* y, Epilogue act, float alpha) => x * s + t > 0f ? dy : 0f;
    }

    // As ReluOfSign: α ≥ 0 (CheckAlpha), so α·z ≤ 0 for z ≤ 0.
    private readonly unsafe struct LeakyReluOfSign : IGradient
    {
        public static Vector256<float> Of(Vector256<float> x, Vector256<float> dy, Vector256<float> s, Vector256<float> t, float* y, Epilogue act, float alpha) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(x * s + t, Vector256<float>.Zero), dy, dy * Vector256.Create(alpha));

        public static float Of(float x, float dy, float s, float t, float* y, Epilogue act, float alpha) => x * s + t > 0f ? dy : dy * alpha;
    }

    // Sigmoid, Tanh, Elu, Softplus: f′ written from the kept output, one lane at a time as Activations does.
    private readonly unsafe struct FromOutput : IGradient
    {
        public static Vector256<float> Of(Vector256<float> x, Vector256<float> dy, Vector256<float> s, Vector256<float> t, float* y, Epilogue act, float alpha)
        {
            var g = stackalloc float[Vector256<float>.Count];
            for (var lane = 0; lane < Vector256<float>.Count; lane++)
            {
                g[lane] = Activations.GradientFromOutput(y[lane], dy.GetElement(lane), act, alpha);
            }
            return Vector256.Load(g);
        }

        public static float Of(float x, float dy, float s, float t, float* y, Epilogue act, float alpha) => Activations.GradientFromOutput(*y, dy, act, alpha);
    }

    // Where a row's gradient dy comes from: Locate finds, for rows [first, last), where each row's dy lies (at) and
    // what identifies the row there (cell); Vector and Scalar read dy of channels [j, j + 8) or j.
    private unsafe interface ISource
    {
        static abstract void Locate(in Job job, int first, int last, long* at, int* cell);

        static abstract Vector256<float> Vector(in Job job, long at, int cell, int j);

        static abstract float Scalar(in Job job, long at, int cell, int j);
    }

    // dy [rows, C] itself.
    private readonly unsafe struct Dense : ISource
    {
        public static void Locate(in Job job, int first, int last, long* at, int* cell)
        {
            for (var r = first; r < last; r++)
            {
                at[r - first] = (long)r * job.C;
            }
        }

        public static Vector256<float> Vector(in Job job, long at, int cell, int j) => Vector256.Load(job.Dy + at + j);

        public static float Scalar(in Job job, long at, int cell, int j) => job.Dy[at + j];
    }

    // The gradient MaxPool2D.Backward would write from the pool's (job.Dy, job.Argmax, windows that do not overlap): a
    // cell gets +0 + dy of its window where it is the window's argmax (the +0 of the cleared buffer included, so −0
    // becomes +0 as there), else +0. at: the row's window's first output (−1: the row is in no window); cell: the row's
    // index within its sample times C.
    private readonly unsafe struct ThroughPool : ISource
    {
        public static void Locate(in Job job, int first, int last, long* at, int* cell)
        {
            var g = job.Pool;
            // Divisions for the first row only; the next rows step the pixel, the column and the window counters.
            var (b, p) = Math.DivRem(first, g.InH * g.InW);
            var (ih, iw) = Math.DivRem(p, g.InW);
            var (oh, inRow) = Math.DivRem(ih + g.PadTop, g.Stride);
            var (ow, inColumn) = Math.DivRem(iw + g.PadLeft, g.Stride);
            for (var r = 0; r < last - first; r++)
            {
                at[r] = oh < g.OutH && ow < g.OutW ? (((long)b * g.OutH + oh) * g.OutW + ow) * g.Channels : -1;
                cell[r] = p * g.Channels;
                p++;
                if (++inColumn == g.Stride)
                {
                    (ow, inColumn) = (ow + 1, 0);
                }
                if (++iw < g.InW)
                {
                    continue;
                }
                (iw, ow, inColumn) = (0, g.PadLeft / g.Stride, g.PadLeft % g.Stride);
                if (++inRow == g.Stride)
                {
                    (oh, inRow) = (oh + 1, 0);
                }
                if (++ih == g.InH)
                {
                    (b, p, ih, oh, inRow) = (b + 1, 0, 0, g.PadTop / g.Stride, g.PadTop % g.Stride);
                }
            }
        }

        public static Vector256<float> Vector(in Job job, long at, int cell, int j)
        {
            if (at < 0)
            {
                return Vector256<float>.Zero;
            }
            var mine = Vector256.Equals(Vector256.Load(job.Argmax + at + j), Vector256.Create(cell + j) + Vector256<int>.Indices);
            return Vector256.ConditionalSelect(mine.AsSingle(), Vector256<float>.Zero + Vector256.Load(job.Dy + at + j), Vector256<float>.Zero);
        }

        public static float Scalar(in Job job, long at, int cell, int j) =>
            at >= 0 && job.Argmax[at + j] == cell + j ? 0f + job.Dy[at + j] : 0f;
    }
}
