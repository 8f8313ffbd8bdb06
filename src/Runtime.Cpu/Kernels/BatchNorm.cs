using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Runtime.Cpu;

/// <summary>
/// Batch normalization over the last axis (Keras' <c>BatchNormalization(axis=-1)</c>); mirror of
/// Runtime.Cuda/Kernels/batchnorm.cu. x and y are [rows, channels] with rows = batch (after Dense) or batch·H·W (after
/// Conv2D, NHWC). Static and stateless: calls on distinct buffers may run concurrently.
/// </summary>
/// <remarks>
/// <para>Keras 3's formulas. Training: mean_c = Σ_r x / rows, var_c = Σ_r (x − mean_c)² / rows (biased, as
/// <c>ops.moments</c>), invStd_c = 1/√(var_c + ε); y = x·s_c + (β_c − mean_c·s_c) with s_c = γ_c·invStd_c (the form of
/// <c>ops.batch_normalization</c>); moving = moving·momentum + batch·(1 − momentum) for the mean and the variance.
/// Inference uses the moving statistics in the same formula. An empty γ is <c>scale=False</c> (1), an empty β
/// <c>center=False</c> (0). Keras' defaults: momentum 0.99, ε 1e-3.</para>
/// <para>Backward (training mode, through the batch statistics): x̂ = (x − mean)·invStd, dβ_c = Σ_r dy,
/// dγ_c = Σ_r dy·x̂, dx = γ·invStd·(dy − dβ/rows − x̂·dγ/rows).</para>
/// <para>Determinism: each channel's sums are taken in double over fixed chunks of <see cref="ChunkRows"/> rows (rows
/// ascending within a chunk), and the chunks' sums are added in order, so the bits do not depend on the number of
/// threads (threads take whole chunks; the element-wise passes take rows).</para>
/// <para>An activation layer that follows (Conv → BatchNorm → ReLU) may be fused: the forward applies it as each block
/// of rows is normalised, and the backward turns the activation's gradient into the normalisation's in place, chunk by
/// chunk, just before summing it. Each element goes through the same function as in
/// <see cref="Activations"/>, so the bits equal the two layers run apart, while one pass over memory, the
/// pre-activation buffer and its gradient buffer are saved.</para>
/// </remarks>
public static class BatchNorm
{
    /// <summary>Keras' default momentum.</summary>
    public const float DefaultMomentum = 0.99f;

    /// <summary>Keras' default epsilon.</summary>
    public const float DefaultEpsilon = 1e-3f;

    /// <summary>Rows per chunk of a per-channel sum: the unit of work of a thread, fixed so the bits are too.</summary>
    public const int ChunkRows = 256;

    // Rows a fused forward activation takes at a time: small enough to still be in L1 after normalising.
    private const int ActivationRows = 32;

    /// <summary>
    /// Training forward: normalizes with the batch statistics, writes them (batchMean, batchInvStd: [channels], for
    /// <see cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float}, int, int)"/>) and updates the moving statistics in place.
    /// </summary>
    public static void ForwardTraining(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y, Span<float> batchMean, Span<float> batchInvStd, Span<float> movingMean, Span<float> movingVariance, int rows, int channels, float momentum, float epsilon) =>
        ForwardTraining(x, gamma, beta, y, batchMean, batchInvStd, movingMean, movingVariance, rows, channels, momentum, epsilon, Epilogue.Linear, 0f);

    /// <summary>
    /// <see cref="ForwardTraining(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float}, Span{float}, Span{float}, int, int, float, float)"/>
    /// followed by the activation layer <paramref name="act"/> (its <paramref name="alpha"/> as in
    /// <see cref="Activations.Forward(ReadOnlySpan{float}, Span{float}, Epilogue, float)"/>): y = f(normalised x).
    /// Gelu and Swish are refused, since the fused backward sees only y.
    /// </summary>
    public static unsafe void ForwardTraining(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y, Span<float> batchMean, Span<float> batchInvStd, Span<float> movingMean, Span<float> movingVariance, int rows, int channels, float momentum, float epsilon, Epilogue act, float alpha)
    {
        CheckActivation(act, alpha);
        CheckShapes(x.Length, y.Length, gamma.Length, beta.Length, rows, channels, epsilon);
        Check.Length(batchMean.Length, channels, nameof(batchMean));
        Check.Length(batchInvStd.Length, channels, nameof(batchInvStd));
        Check.Length(movingMean.Length, channels, nameof(movingMean));
        Check.Length(movingVariance.Length, channels, nameof(movingVariance));
        if (!(momentum >= 0f && momentum <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must lie in [0, 1].");
        }
        var chunks = Chunks(rows);
        var partial = ArrayPool<double>.Shared.Rent(chunks * channels);
        var affine = ArrayPool<float>.Shared.Rent(2 * channels);
        try
        {
            fixed (float* px = x, py = y, pm = batchMean, paffine = affine)
            fixed (double* pp = partial)
            {
                var job = new Job(px, null, null, pm, pp, rows, channels);
                Workers.Run(&SumPart, &job, Workers.PartsFor(chunks, 1));
                Combine(pp, chunks, channels, rows, batchMean, default);
                Workers.Run(&SquarePart, &job, Workers.PartsFor(chunks, 1));
                var variance = new Span<float>(paffine, channels);
                Combine(pp, chunks, channels, rows, variance, default);
                for (var c = 0; c < channels; c++)
                {
                    var invStd = (float)(1 / Math.Sqrt((double)variance[c] + epsilon));
                    batchInvStd[c] = invStd;
                    movingMean[c] = movingMean[c] * momentum + batchMean[c] * (1f - momentum);
                    movingVariance[c] = movingVariance[c] * momentum + variance[c] * (1f - momentum);
                }
                Affine(gamma, beta, batchMean, batchInvStd, affine);
                Normalize(px, py, paffine, rows, channels, act, alpha);
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partial);
            ArrayPool<float>.Shared.Return(affine);
        }
    }

    /// <summary>Inference forward: y = (x − movingMean)/√(movingVariance + ε)·γ + β.</summary>
    public static void ForwardInference(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> movingMean, ReadOnlySpan<float> movingVariance, Span<float> y, int rows, int channels, float epsilon) =>
        ForwardInference(x, gamma, beta, movingMean, movingVariance, y, rows, channels, epsilon, Epilogue.Linear, 0f);

    /// <summary>Inference forward followed by the activation layer <paramref name="act"/>: y = f(normalised x).</summary>
    public static unsafe void ForwardInference(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> movingMean, ReadOnlySpan<float> movingVariance, Span<float> y, int rows, int channels, float epsilon, Epilogue act, float alpha)
    {
        CheckActivation(act, alpha);
        CheckShapes(x.Length, y.Length, gamma.Length, beta.Length, rows, channels, epsilon);
        Check.Length(movingMean.Length, channels, nameof(movingMean));
        Check.Length(movingVariance.Length, channels, nameof(movingVariance));
        var affine = ArrayPool<float>.Shared.Rent(3 * channels);
        try
        {
            var invStd = affine.AsSpan(2 * channels, channels);
            for (var c = 0; c < channels; c++)
            {
                invStd[c] = (float)(1 / Math.Sqrt((double)movingVariance[c] + epsilon));
            }
            Affine(gamma, beta, movingMean, invStd, affine);
            fixed (float* px = x, py = y, paffine = affine)
            {
                Normalize(px, py, paffine, rows, channels, act, alpha);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(affine);
        }
    }

    /// <summary>
    /// Training backward from the statistics the training forward wrote. dx (empty: not computed, for a
    /// first layer), dγ (empty when <c>scale=False</c>) and dβ (empty when <c>center=False</c>) are overwritten.
    /// </summary>
    public static unsafe void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma, ReadOnlySpan<float> batchMean, ReadOnlySpan<float> batchInvStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta, int rows, int channels)
    {
        fixed (float* pdy = dy)
        {
            // The linear activation never writes through dy.
            Backward(x, default, new Span<float>(pdy, dy.Length), Epilogue.Linear, 0f, gamma, batchMean, batchInvStd, dx, dgamma, dbeta, rows, channels);
        }
    }

    /// <summary>
    /// The backward pass of <see cref="ForwardTraining(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float}, Span{float}, Span{float}, int, int, float, float, Epilogue, float)"/>
    /// with its activation: <paramref name="dy"/>, the gradient of the activated output <paramref name="y"/>, is first
    /// multiplied in place by f′ (written from y), then flows back as in the unfused backward.
    /// </summary>
    public static unsafe void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dy, Epilogue act, float alpha, ReadOnlySpan<float> gamma, ReadOnlySpan<float> batchMean, ReadOnlySpan<float> batchInvStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta, int rows, int channels)
    {
        CheckActivation(act, alpha);
        Check.Positive(rows, nameof(rows));
        Check.Positive(channels, nameof(channels));
        Check.Length(x.Length, (long)rows * channels, nameof(x));
        Check.Length(dy.Length, x.Length, nameof(dy));
        if (act != Epilogue.Linear)
        {
            Check.Length(y.Length, x.Length, nameof(y));
        }
        Optional(gamma.Length, channels, nameof(gamma));
        Check.Length(batchMean.Length, channels, nameof(batchMean));
        Check.Length(batchInvStd.Length, channels, nameof(batchInvStd));
        Optional(dx.Length, x.Length, nameof(dx));
        Optional(dgamma.Length, channels, nameof(dgamma));
        Optional(dbeta.Length, channels, nameof(dbeta));
        var chunks = Chunks(rows);
        var partial = ArrayPool<double>.Shared.Rent(2 * chunks * channels);
        var sums = ArrayPool<float>.Shared.Rent(3 * channels);
        try
        {
            fixed (float* px = x, py = y, pdy = dy, pm = batchMean, pi = batchInvStd, pdx = dx, psums = sums)
            fixed (double* pp = partial)
            {
                var job = new Job(px, pdy, pi, pm, pp, rows, channels, output: py, act: act, alpha: alpha);
                Workers.Run(&GradientSumPart, &job, Workers.PartsFor(chunks, 1));
                // sums: [Σdy/rows | Σdy·x̂/rows | γ·invStd], the per-channel terms of dx.
                var sumDy = new Span<float>(psums, channels);
                var sumDyXhat = new Span<float>(psums + channels, channels);
                Combine(pp, chunks, channels, rows, sumDy, dbeta);
                Combine(pp + (long)chunks * channels, chunks, channels, rows, sumDyXhat, dgamma);
                if (dx.IsEmpty)
                {
                    return;
                }
                for (var c = 0; c < channels; c++)
                {
                    psums[2 * channels + c] = (gamma.IsEmpty ? 1f : gamma[c]) * batchInvStd[c];
                }
                var dataJob = new Job(px, pdy, pi, pm, null, rows, channels, psums, pdx);
                Workers.Run(&DataPart, &dataJob, Workers.PartsFor((long)rows * channels, 1 << 14));
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partial);
            ArrayPool<float>.Shared.Return(sums);
        }
    }

    private static int Chunks(int rows) => (rows + ChunkRows - 1) / ChunkRows;

    // out[c] = (float)(Σ over chunks in order of partial[chunk·C + c] / divisor); copy, where given, receives the
    // undivided sum (dγ, dβ).
    private static unsafe void Combine(double* partial, int chunks, int channels, int divisor, Span<float> result, Span<float> copy)
    {
        for (var c = 0; c < channels; c++)
        {
            var sum = 0.0;
            for (var k = 0; k < chunks; k++)
            {
                sum += partial[(long)k * channels + c];
            }
            result[c] = (float)(sum / divisor);
            if (!copy.IsEmpty)
            {
                copy[c] = (float)sum;
            }
        }
    }

    // affine[0..C) = s = γ·invStd, affine[C..2C) = t = β − mean·s: y = x·s + t.
    private static void Affine(ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, float[] affine)
    {
        var c = mean.Length;
        for (var j = 0; j < c; j++)
        {
            var s = (gamma.IsEmpty ? 1f : gamma[j]) * invStd[j];
            affine[j] = s;
            affine[c + j] = (beta.IsEmpty ? 0f : beta[j]) - mean[j] * s;
        }
    }

    private static unsafe void Normalize(float* x, float* y, float* affine, int rows, int channels, Epilogue act, float alpha)
    {
        var job = new Job(x, null, null, null, null, rows, channels, affine, y, act, alpha);
        Workers.Run(&NormalizePart, &job, Workers.PartsFor((long)rows * channels, 1 << 14));
    }

    // Chunks [lo, hi): partial[chunk·C + c] = Σ x over the chunk's rows.
    private static unsafe void SumPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Gemm.Range(Chunks(job.Rows), 1, part, parts);
        for (var k = lo; k < hi; k++)
        {
            var acc = job.Partial + (long)k * job.C;
            new Span<double>(acc, job.C).Clear();
            for (var r = k * ChunkRows; r < Math.Min(job.Rows, (k + 1) * ChunkRows); r++)
            {
                AddRow(job.X + (long)r * job.C, acc, job.C);
            }
        }
    }

    // Chunks [lo, hi): partial[chunk·C + c] = Σ (x − mean)² over the chunk's rows, in double.
    private static unsafe void SquarePart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Gemm.Range(Chunks(job.Rows), 1, part, parts);
        for (var k = lo; k < hi; k++)
        {
            var acc = job.Partial + (long)k * job.C;
            new Span<double>(acc, job.C).Clear();
            for (var r = k * ChunkRows; r < Math.Min(job.Rows, (k + 1) * ChunkRows); r++)
            {
                AddSquaredDeviations(job.X + (long)r * job.C, job.Mean, acc, job.C);
            }
        }
    }

    // Chunks [lo, hi): Σ dy into the first chunks·C partials, Σ dy·x̂ into the next (x̂ rounded to float as in dx).
    private static unsafe void GradientSumPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var chunks = Chunks(job.Rows);
        var (lo, hi) = Gemm.Range(chunks, 1, part, parts);
        for (var k = lo; k < hi; k++)
        {
            var sumDy = job.Partial + (long)k * job.C;
            var sumDyXhat = job.Partial + (long)(chunks + k) * job.C;
            new Span<double>(sumDy, job.C).Clear();
            new Span<double>(sumDyXhat, job.C).Clear();
            var end = Math.Min(job.Rows, (k + 1) * ChunkRows);
            if (job.Act != Epilogue.Linear)
            {
                // The fused activation's gradient, in place while the chunk is in cache (job.Out is its output).
                var o = (long)k * ChunkRows * job.C;
                Activations.BackwardRange(job.Out + o, job.Dy + o, job.Dy + o, (end - k * ChunkRows) * job.C, job.Act, job.Alpha);
            }
            for (var r = k * ChunkRows; r < end; r++)
            {
                var o = (long)r * job.C;
                AddRow(job.Dy + o, sumDy, job.C);
                AddGradientProducts(job.X + o, job.Dy + o, job.Mean, job.InvStd, sumDyXhat, job.C);
            }
        }
    }

    // acc[c] += row[c] in double, four channels per vector.
    private static unsafe void AddRow(float* row, double* acc, int channels)
    {
        var c = 0;
        if (Avx.IsSupported)
        {
            for (; c <= channels - 4; c += 4)
            {
                Avx.Store(acc + c, Avx.Add(Avx.LoadVector256(acc + c), Avx.ConvertToVector256Double(Sse.LoadVector128(row + c))));
            }
        }
        for (; c < channels; c++)
        {
            acc[c] += row[c];
        }
    }

    // acc[c] += ((double)row[c] − mean[c])², four channels per vector.
    private static unsafe void AddSquaredDeviations(float* row, float* mean, double* acc, int channels)
    {
        var c = 0;
        if (Avx.IsSupported)
        {
            for (; c <= channels - 4; c += 4)
            {
                var d = Avx.Subtract(Avx.ConvertToVector256Double(Sse.LoadVector128(row + c)), Avx.ConvertToVector256Double(Sse.LoadVector128(mean + c)));
                Avx.Store(acc + c, Avx.Add(Avx.LoadVector256(acc + c), Avx.Multiply(d, d)));
            }
        }
        for (; c < channels; c++)
        {
            var d = (double)row[c] - mean[c];
            acc[c] += d * d;
        }
    }

    // acc[c] += dy·x̂ in double with x̂ = (x − mean)·invStd in float, four channels per vector.
    private static unsafe void AddGradientProducts(float* x, float* dy, float* mean, float* invStd, double* acc, int channels)
    {
        var c = 0;
        if (Avx.IsSupported)
        {
            for (; c <= channels - 4; c += 4)
            {
                var xhat = Sse.Multiply(Sse.Subtract(Sse.LoadVector128(x + c), Sse.LoadVector128(mean + c)), Sse.LoadVector128(invStd + c));
                var product = Avx.Multiply(Avx.ConvertToVector256Double(Sse.LoadVector128(dy + c)), Avx.ConvertToVector256Double(xhat));
                Avx.Store(acc + c, Avx.Add(Avx.LoadVector256(acc + c), product));
            }
        }
        for (; c < channels; c++)
        {
            acc[c] += (double)dy[c] * ((x[c] - mean[c]) * invStd[c]);
        }
    }

    // Rows [lo, hi): y = x·s + t with job.Extra = affine (a multiply, then an add: the scalar and vector bits agree).
    private static unsafe void NormalizePart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Gemm.Range(job.Rows, 1, part, parts);
        var c = job.C;
        var scale = job.Extra;
        var shift = job.Extra + c;
        for (var r = lo; r < hi; r++)
        {
            var x = job.X + (long)r * c;
            var y = job.Out + (long)r * c;
            var j = 0;
            for (; j <= c - Vector256<float>.Count; j += Vector256<float>.Count)
            {
                (Vector256.Load(x + j) * Vector256.Load(scale + j) + Vector256.Load(shift + j)).Store(y + j);
            }
            for (; j < c; j++)
            {
                y[j] = x[j] * scale[j] + shift[j];
            }
            // The fused activation over blocks of rows still in cache.
            var first = r - (r - lo) % ActivationRows;
            if (job.Act != Epilogue.Linear && (r + 1 == hi || r + 1 - first == ActivationRows))
            {
                var block = job.Out + (long)first * c;
                Activations.ForwardRange(block, block, (r + 1 - first) * c, job.Act, job.Alpha);
            }
        }
    }

    // Rows [lo, hi): dx = γ·invStd·(dy − Σdy/rows − x̂·Σdy·x̂/rows), job.Extra = [Σdy/rows | Σdy·x̂/rows | γ·invStd].
    private static unsafe void DataPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Gemm.Range(job.Rows, 1, part, parts);
        var c = job.C;
        var meanDy = job.Extra;
        var meanDyXhat = job.Extra + c;
        var coefficient = job.Extra + 2 * c;
        var mean = job.Mean;
        var invStd = job.InvStd;
        for (var r = lo; r < hi; r++)
        {
            var x = job.X + (long)r * c;
            var dy = job.Dy + (long)r * c;
            var dx = job.Out + (long)r * c;
            var j = 0;
            // Explicit multiplies and adds (never contracted into FMA), so the vector and scalar bits agree.
            for (; j <= c - Vector256<float>.Count; j += Vector256<float>.Count)
            {
                var xhat = (Vector256.Load(x + j) - Vector256.Load(mean + j)) * Vector256.Load(invStd + j);
                var g = Vector256.Load(dy + j) - Vector256.Load(meanDy + j) - xhat * Vector256.Load(meanDyXhat + j);
                (Vector256.Load(coefficient + j) * g).Store(dx + j);
            }
            for (; j < c; j++)
            {
                var xhat = (x[j] - mean[j]) * invStd[j];
                dx[j] = coefficient[j] * (dy[j] - meanDy[j] - xhat * meanDyXhat[j]);
            }
        }
    }

    // Gelu and Swish need their input to differentiate, which the fused pass does not keep.
    private static void CheckActivation(Epilogue act, float alpha)
    {
        Activations.CheckAlpha(act, alpha);
        Activations.RefuseInputDerivative(act, nameof(act));
    }

    private static void CheckShapes(int xLength, int yLength, int gammaLength, int betaLength, int rows, int channels, float epsilon)
    {
        Check.Positive(rows, nameof(rows));
        Check.Positive(channels, nameof(channels));
        Check.Length(xLength, (long)rows * channels, "x");
        Check.Length(yLength, xLength, "y");
        Optional(gammaLength, channels, "gamma");
        Optional(betaLength, channels, "beta");
        if (!(epsilon > 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive.");
        }
    }

    // Empty (the switch is off, or the output is not wanted) or exactly the expected length.
    private static void Optional(int length, long expected, string name)
    {
        if (length != 0)
        {
            Check.Length(length, expected, name);
        }
    }

    // Out is the normalised output, the data gradient, or (in the gradient sums) the fused activation's output.
    private readonly unsafe struct Job(float* x, float* dy, float* invStd, float* mean, double* partial, int rows, int c, float* extra = null, float* output = null, Epilogue act = Epilogue.Linear, float alpha = 0f)
    {
        public readonly float* X = x, Dy = dy, InvStd = invStd, Mean = mean, Extra = extra, Out = output;
        public readonly double* Partial = partial;
        public readonly int Rows = rows, C = c;
        public readonly Epilogue Act = act;
        public readonly float Alpha = alpha;
    }
}
