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
