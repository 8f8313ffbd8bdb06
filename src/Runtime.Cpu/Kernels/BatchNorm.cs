using System.Buffers;
using System.Runtime.CompilerServices;
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
/// <para>The forward takes both moments in one pass, about a pivot K_c = x[0, c] (the batch's first row): mean =
/// K + d and var = Σ(x − K)²/rows − d² with d = Σ(x − K)/rows. It cancels only as far as K lies from the mean (relative
/// error about 2⁻⁵³·((K − mean)/σ)², below float's rounding while K is within 10⁴ σ of the mean), unlike Σx² − (Σx)²/n.</para>
/// <para>An activation layer that follows (Conv → BatchNorm → ReLU) may be fused: the forward applies it as each block
/// of rows is normalised, and the backward multiplies the activation's gradient by f′ as it reads it (twice: for the
/// sums, then for dx), never writing it back. ReLU's and LeakyReLU's f′ is a function of the sign of z = x·s + t, which
/// the backward recomputes with the forward's multiply then add (same bits, so the same mask), so it reads x and dy
/// only; the other activations write f′ from the kept output y. Each element goes through the same arithmetic as in
/// <see cref="Activations"/>, so the bits equal the two layers run apart, while the pre-activation buffer and its
/// gradient buffer are saved.</para>
/// </remarks>
public static partial class BatchNorm
{
    /// <summary>Keras' default momentum.</summary>
    public const float DefaultMomentum = 0.99f;

    /// <summary>Keras' default epsilon.</summary>
    public const float DefaultEpsilon = 1e-3f;

    /// <summary>Rows per chunk of a per-channel sum: the unit of work of a thread, fixed so the bits are too.</summary>
    public const int ChunkRows = 256;

    // Rows a chunk's sums take at a time, eight channels after eight with the sums in registers: the block stays in L1.
    private const int BlockRows = 16;

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
    /// Gelu and Swish are refused: their derivative needs z itself, which the fused backward does not evaluate.
    /// </summary>
    public static unsafe void ForwardTraining(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y, Span<float> batchMean, Span<float> batchInvStd, Span<float> movingMean, Span<float> movingVariance, int rows, int channels, float momentum, float epsilon, Epilogue act, float alpha)
    {
        CheckActivation(act, alpha);
        CheckShapes(x.Length, y.Length, gamma.Length, beta.Length, rows, channels, epsilon);
        CheckTraining(batchMean, batchInvStd, movingMean, movingVariance, channels, momentum);
        var affine = ArrayPool<float>.Shared.Rent(2 * channels);
        try
        {
            TrainingAffine(x, gamma, beta, batchMean, batchInvStd, movingMean, movingVariance, rows, channels, momentum, epsilon, affine);
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

    /// <summary>Inference forward: y = (x − movingMean)/√(movingVariance + ε)·γ + β.</summary>
    public static void ForwardInference(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> movingMean, ReadOnlySpan<float> movingVariance, Span<float> y, int rows, int channels, float epsilon) =>
        ForwardInference(x, gamma, beta, movingMean, movingVariance, y, rows, channels, epsilon, Epilogue.Linear, 0f);

    /// <summary>Inference forward followed by the activation layer <paramref name="act"/>: y = f(normalised x).</summary>
    public static unsafe void ForwardInference(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> movingMean, ReadOnlySpan<float> movingVariance, Span<float> y, int rows, int channels, float epsilon, Epilogue act, float alpha)
    {
        CheckActivation(act, alpha);
        CheckShapes(x.Length, y.Length, gamma.Length, beta.Length, rows, channels, epsilon);
        CheckInference(movingMean, movingVariance, channels);
        var affine = ArrayPool<float>.Shared.Rent(3 * channels);
        try
        {
            InferenceAffine(gamma, beta, movingMean, movingVariance, channels, epsilon, affine);
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

    private static int Chunks(int rows) => (rows + ChunkRows - 1) / ChunkRows;

    private static void CheckTraining(Span<float> batchMean, Span<float> batchInvStd, Span<float> movingMean, Span<float> movingVariance, int channels, float momentum)
    {
        Check.Length(batchMean.Length, channels, nameof(batchMean));
        Check.Length(batchInvStd.Length, channels, nameof(batchInvStd));
        Check.Length(movingMean.Length, channels, nameof(movingMean));
        Check.Length(movingVariance.Length, channels, nameof(movingVariance));
        if (!(momentum >= 0f && momentum <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must lie in [0, 1].");
        }
    }

    private static void CheckInference(ReadOnlySpan<float> movingMean, ReadOnlySpan<float> movingVariance, int channels)
    {
        Check.Length(movingMean.Length, channels, nameof(movingMean));
        Check.Length(movingVariance.Length, channels, nameof(movingVariance));
    }

    // The batch statistics (written to batchMean and batchInvStd; the moving ones updated), then affine = [s | t].
    private static unsafe void TrainingAffine(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> batchMean, Span<float> batchInvStd, Span<float> movingMean, Span<float> movingVariance, int rows, int channels, float momentum, float epsilon, float[] affine)
    {
        var chunks = Chunks(rows);
        var partial = ArrayPool<double>.Shared.Rent(2 * chunks * channels);
        try
        {
            fixed (float* px = x)
            fixed (double* pp = partial)
            {
                var job = new Job(px, null, null, null, null, null, pp, rows, channels);
                Workers.Run(&MomentPart, &job, Workers.PartsFor(chunks, 1));
                for (var c = 0; c < channels; c++)
                {
                    var (sum, squares) = (0.0, 0.0);
                    for (var k = 0; k < chunks; k++)
                    {
                        sum += pp[(long)k * channels + c];
                        squares += pp[(long)(chunks + k) * channels + c];
                    }
                    // About the pivot K = x[0, c]: mean = K + d, var = Σ(x − K)²/rows − d² with d = Σ(x − K)/rows.
                    var d = sum / rows;
                    var variance = Math.Max(squares / rows - d * d, 0.0);
                    batchMean[c] = (float)(px[c] + d);
                    batchInvStd[c] = (float)(1 / Math.Sqrt(variance + epsilon));
                    movingMean[c] = movingMean[c] * momentum + batchMean[c] * (1f - momentum);
                    movingVariance[c] = movingVariance[c] * momentum + (float)variance * (1f - momentum);
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partial);
        }
        Affine(gamma, beta, batchMean, batchInvStd, affine);
    }

    // affine = [s | t | 1/√(movingVariance + ε)]: the moving statistics in the affine form.
    private static void InferenceAffine(ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> movingMean, ReadOnlySpan<float> movingVariance, int channels, float epsilon, float[] affine)
    {
        var invStd = affine.AsSpan(2 * channels, channels);
        for (var c = 0; c < channels; c++)
        {
            invStd[c] = (float)(1 / Math.Sqrt((double)movingVariance[c] + epsilon));
        }
        Affine(gamma, beta, movingMean, invStd, affine);
    }

    // f′ of the fused backward's activations: ReLU's and LeakyReLU's (α ≥ 0) follow the sign of z, the others are
    // written from y.
    private static bool DerivativeFromSign(Epilogue act) => act is Epilogue.Linear or Epilogue.Relu or Epilogue.LeakyRelu;

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
        var job = new Job(x, null, null, null, null, affine, null, rows, channels, act, alpha, y);
        Workers.Run(&NormalizePart, &job, Workers.PartsFor((long)rows * channels, 1 << 14));
    }

    // Chunks [lo, hi): partial[chunk·C + c] = Σ (x − K) and partial[(chunks + chunk)·C + c] = Σ (x − K)² over the
    // chunk's rows in double, with the batch's first row K = x[0, c] as the pivot.
    private static unsafe void MomentPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var chunks = Chunks(job.Rows);
        var (lo, hi) = Gemm.Range(chunks, 1, part, parts);
        var c = job.C;
        var pivot = job.X;
        for (var k = lo; k < hi; k++)
        {
            var sum = job.Partial + (long)k * c;
            var squares = job.Partial + (long)(chunks + k) * c;
            new Span<double>(sum, c).Clear();
            new Span<double>(squares, c).Clear();
            var end = Math.Min(job.Rows, (k + 1) * ChunkRows);
            for (var first = k * ChunkRows; first < end; first += BlockRows)
            {
                var last = Math.Min(end, first + BlockRows);
                var j = 0;
                if (Avx.IsSupported)
                {
                    for (; j <= c - Vector256<float>.Count; j += Vector256<float>.Count)
                    {
                        var (k0, k1) = Widen(Vector256.Load(pivot + j));
                        var (s0, s1) = (Avx.LoadVector256(sum + j), Avx.LoadVector256(sum + j + 4));
                        var (q0, q1) = (Avx.LoadVector256(squares + j), Avx.LoadVector256(squares + j + 4));
                        for (var r = first; r < last; r++)
                        {
                            var (v0, v1) = Widen(Vector256.Load(job.X + (long)r * c + j));
                            var (d0, d1) = (v0 - k0, v1 - k1);
                            s0 += d0;
                            s1 += d1;
                            q0 += d0 * d0;
                            q1 += d1 * d1;
                        }
                        s0.Store(sum + j);
                        s1.Store(sum + j + 4);
                        q0.Store(squares + j);
                        q1.Store(squares + j + 4);
                    }
                }
                for (; j < c; j++)
                {
                    for (var r = first; r < last; r++)
                    {
                        var d = (double)job.X[(long)r * c + j] - pivot[j];
                        sum[j] += d;
                        squares[j] += d * d;
                    }
                }
            }
        }
    }

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

    // The float lanes as two vectors of four doubles (exact).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<double> Lower, Vector256<double> Upper) Widen(Vector256<float> v) =>
        (Avx.ConvertToVector256Double(v.GetLower()), Avx.ConvertToVector256Double(v.GetUpper()));

    // One row: y = x·s + t (a multiply, then an add: the scalar and vector bits agree), then ReLU where asked.
    private static unsafe void NormalizeRow(float* x, float* y, float* scale, float* shift, int c, bool relu)
    {
        if (relu)
        {
            NormalizeRow<ReluOfRow>(x, y, scale, shift, c);
        }
        else
        {
            NormalizeRow<Unchanged>(x, y, scale, shift, c);
        }
    }

    private static unsafe void NormalizeRow<TActivation>(float* x, float* y, float* scale, float* shift, int c) where TActivation : struct, IRowActivation
    {
        var j = 0;
        for (; j <= c - Vector256<float>.Count; j += Vector256<float>.Count)
        {
            TActivation.Of(Vector256.Load(x + j) * Vector256.Load(scale + j) + Vector256.Load(shift + j)).Store(y + j);
        }
        for (; j < c; j++)
        {
            y[j] = TActivation.Of(x[j] * scale[j] + shift[j]);
        }
    }

    // What the normalising pass applies to z as it writes it: nothing, or ReLU with Activations' bits (z > 0 ? z : +0).
    private interface IRowActivation
    {
        static abstract Vector256<float> Of(Vector256<float> z);

        static abstract float Of(float z);
    }

    private readonly struct ReluOfRow : IRowActivation
    {
        public static Vector256<float> Of(Vector256<float> z) => Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256<float>.Zero), z, Vector256<float>.Zero);

        public static float Of(float z) => z > 0f ? z : 0f;
    }

    // Rows [lo, hi): y = x·s + t with job.Terms = affine, then the fused activation.
    private static unsafe void NormalizePart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Gemm.Range(job.Rows, 1, part, parts);
        var c = job.C;
        var scale = job.Terms;
        var shift = job.Terms + c;
        var relu = job.Act == Epilogue.Relu;
        for (var r = lo; r < hi; r++)
        {
            NormalizeRow(job.X + (long)r * c, job.Out + (long)r * c, scale, shift, c, relu);
            // The other fused activations over blocks of rows still in cache.
            var first = r - (r - lo) % ActivationRows;
            if (job.Act != Epilogue.Linear && !relu && (r + 1 == hi || r + 1 - first == ActivationRows))
            {
                var block = job.Out + (long)first * c;
                Activations.ForwardRange(block, block, (r + 1 - first) * c, job.Act, job.Alpha);
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

    // Terms: the affine form [s | t] (and, in the data pass, the per-channel terms of dx after it); Out: the normalised
    // output or the data gradient; Y: the fused activation's output (read by FromOutput only); Dy: dy, or with Argmax
    // and Pool the gradient of a max pool's output (ThroughPool).
    private readonly unsafe struct Job(float* x, float* y, float* dy, float* mean, float* invStd, float* terms, double* partial, int rows, int c, Epilogue act = Epilogue.Linear, float alpha = 0f, float* output = null, int* argmax = null, PoolGeometry pool = default)
    {
        public readonly float* X = x, Y = y, Dy = dy, Mean = mean, InvStd = invStd, Terms = terms, Out = output;
        public readonly int* Argmax = argmax;
        public readonly PoolGeometry Pool = pool;
        public readonly double* Partial = partial;
        public readonly int Rows = rows, C = c;
        public readonly Epilogue Act = act;
        public readonly float Alpha = alpha;
    }
}
