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
/// <para>Determinism: each channel's sums run over rows in ascending order in double, whatever the number of threads
/// (threads take whole blocks of channels).</para>
/// </remarks>
public static class BatchNorm
{
    /// <summary>Keras' default momentum.</summary>
    public const float DefaultMomentum = 0.99f;

    /// <summary>Keras' default epsilon.</summary>
    public const float DefaultEpsilon = 1e-3f;

    // Channels per block: a thread's unit of work, and the width of the per-channel scratch on its stack.
    private const int Block = 64;

    /// <summary>
    /// Training forward: normalizes with the batch statistics, writes them (batchMean, batchInvStd: [channels], for
    /// <see cref="Backward"/>) and updates the moving statistics in place.
    /// </summary>
    public static unsafe void ForwardTraining(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y, Span<float> batchMean, Span<float> batchInvStd, Span<float> movingMean, Span<float> movingVariance, int rows, int channels, float momentum, float epsilon)
    {
        CheckShapes(x.Length, y.Length, gamma.Length, beta.Length, rows, channels, epsilon);
        Check.Length(batchMean.Length, channels, nameof(batchMean));
        Check.Length(batchInvStd.Length, channels, nameof(batchInvStd));
        Check.Length(movingMean.Length, channels, nameof(movingMean));
        Check.Length(movingVariance.Length, channels, nameof(movingVariance));
        if (!(momentum >= 0f && momentum <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must lie in [0, 1].");
        }
        fixed (float* px = x, pg = gamma, pb = beta, py = y, pm = batchMean, pi = batchInvStd, pmm = movingMean, pmv = movingVariance)
        {
            var job = new Job(px, pg, pb, py, pm, pi, pmm, pmv, null, null, null, null, rows, channels, momentum, epsilon);
            Workers.Run(&TrainingPart, &job, Parts(rows, channels));
        }
    }

    /// <summary>Inference forward: y = (x − movingMean)/√(movingVariance + ε)·γ + β.</summary>
    public static unsafe void ForwardInference(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> movingMean, ReadOnlySpan<float> movingVariance, Span<float> y, int rows, int channels, float epsilon)
    {
        CheckShapes(x.Length, y.Length, gamma.Length, beta.Length, rows, channels, epsilon);
        Check.Length(movingMean.Length, channels, nameof(movingMean));
        Check.Length(movingVariance.Length, channels, nameof(movingVariance));
        fixed (float* px = x, pg = gamma, pb = beta, py = y, pmm = movingMean, pmv = movingVariance)
        {
            var job = new Job(px, pg, pb, py, null, null, pmm, pmv, null, null, null, null, rows, channels, 0f, epsilon);
            Workers.Run(&InferencePart, &job, Parts(rows, channels));
        }
    }

    /// <summary>
    /// Training backward from the statistics <see cref="ForwardTraining"/> wrote. dx (empty: not computed, for a
    /// first layer), dγ (empty when <c>scale=False</c>) and dβ (empty when <c>center=False</c>) are overwritten.
    /// </summary>
    public static unsafe void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma, ReadOnlySpan<float> batchMean, ReadOnlySpan<float> batchInvStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta, int rows, int channels)
    {
        Check.Positive(rows, nameof(rows));
        Check.Positive(channels, nameof(channels));
        Check.Length(x.Length, (long)rows * channels, nameof(x));
        Check.Length(dy.Length, x.Length, nameof(dy));
        Optional(gamma.Length, channels, nameof(gamma));
        Check.Length(batchMean.Length, channels, nameof(batchMean));
        Check.Length(batchInvStd.Length, channels, nameof(batchInvStd));
        Optional(dx.Length, x.Length, nameof(dx));
        Optional(dgamma.Length, channels, nameof(dgamma));
        Optional(dbeta.Length, channels, nameof(dbeta));
        fixed (float* px = x, pdy = dy, pg = gamma, pm = batchMean, pi = batchInvStd, pdx = dx, pdg = dgamma, pdb = dbeta)
        {
            var job = new Job(px, pg, null, null, pm, pi, null, null, pdy, pdx, pdg, pdb, rows, channels, 0f, 0f);
            Workers.Run(&BackwardPart, &job, Parts(rows, channels));
        }
    }

    private static int Parts(int rows, int channels) =>
        Math.Min((channels + Block - 1) / Block, Workers.PartsFor((long)rows * channels, 1 << 14));

    // Channel blocks [lo, hi) of part `part`, in whole blocks.
    private static (int Lo, int Hi) Channels(int channels, int part, int parts)
    {
        var (lo, hi) = Gemm.Range((channels + Block - 1) / Block, 1, part, parts);
        return (lo * Block, Math.Min(hi * Block, channels));
    }

    private static unsafe void TrainingPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Channels(job.C, part, parts);
        var sum = stackalloc double[Block];
        var scale = stackalloc float[Block];
        var shift = stackalloc float[Block];
        for (var c0 = lo; c0 < hi; c0 += Block)
        {
            var n = Math.Min(Block, hi - c0);
            Sums(job.X, null, job.Rows, job.C, c0, n, sum);
            for (var j = 0; j < n; j++)
            {
                job.Mean[c0 + j] = (float)(sum[j] / job.Rows);
            }
            // Two passes: the squares of deviations from the float mean, as a second sum.
            Sums(job.X, job.Mean + c0, job.Rows, job.C, c0, n, sum);
            for (var j = 0; j < n; j++)
            {
                var c = c0 + j;
                var variance = sum[j] / job.Rows;
                var invStd = (float)(1 / Math.Sqrt(variance + job.Epsilon));
                job.InvStd[c] = invStd;
                scale[j] = (job.Gamma == null ? 1f : job.Gamma[c]) * invStd;
                shift[j] = (job.Beta == null ? 0f : job.Beta[c]) - job.Mean[c] * scale[j];
                job.MovingMean[c] = job.MovingMean[c] * job.Momentum + job.Mean[c] * (1f - job.Momentum);
                job.MovingVariance[c] = job.MovingVariance[c] * job.Momentum + (float)variance * (1f - job.Momentum);
            }
            Normalize(job.X, job.Y, job.Rows, job.C, c0, n, scale, shift);
        }
    }

    private static unsafe void InferencePart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Channels(job.C, part, parts);
        var scale = stackalloc float[Block];
        var shift = stackalloc float[Block];
        for (var c0 = lo; c0 < hi; c0 += Block)
        {
            var n = Math.Min(Block, hi - c0);
            for (var j = 0; j < n; j++)
            {
                var c = c0 + j;
                var invStd = (float)(1 / Math.Sqrt((double)job.MovingVariance[c] + job.Epsilon));
                scale[j] = (job.Gamma == null ? 1f : job.Gamma[c]) * invStd;
                shift[j] = (job.Beta == null ? 0f : job.Beta[c]) - job.MovingMean[c] * scale[j];
            }
            Normalize(job.X, job.Y, job.Rows, job.C, c0, n, scale, shift);
        }
    }

    private static unsafe void BackwardPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Channels(job.C, part, parts);
        var sumDy = stackalloc double[Block];
        var sumDyXhat = stackalloc double[Block];
        var coefficient = stackalloc float[Block];
        var dBetaMean = stackalloc float[Block];
        var dGammaMean = stackalloc float[Block];
        for (var c0 = lo; c0 < hi; c0 += Block)
        {
            var n = Math.Min(Block, hi - c0);
            Sums(job.Dy, null, job.Rows, job.C, c0, n, sumDy);
            ProductSums(job.X, job.Dy, job.Mean + c0, job.InvStd + c0, job.Rows, job.C, c0, n, sumDyXhat);
            for (var j = 0; j < n; j++)
            {
                var c = c0 + j;
                if (job.DGamma != null)
                {
                    job.DGamma[c] = (float)sumDyXhat[j];
                }
                if (job.DBeta != null)
                {
                    job.DBeta[c] = (float)sumDy[j];
                }
                coefficient[j] = (job.Gamma == null ? 1f : job.Gamma[c]) * job.InvStd[c];
                dBetaMean[j] = (float)(sumDy[j] / job.Rows);
                dGammaMean[j] = (float)(sumDyXhat[j] / job.Rows);
            }
            if (job.Dx == null)
            {
                continue;
            }
            for (var r = 0; r < job.Rows; r++)
            {
                var o = (long)r * job.C + c0;
                for (var j = 0; j < n; j++)
                {
                    var xhat = (job.X[o + j] - job.Mean[c0 + j]) * job.InvStd[c0 + j];
                    job.Dx[o + j] = coefficient[j] * (job.Dy[o + j] - dBetaMean[j] - xhat * dGammaMean[j]);
                }
            }
        }
    }

    // sum[j] = Σ_r over rows ascending, in double, of v[r, c0 + j], or of (v[r, c0 + j] − mean[j])² when mean is given.
    private static unsafe void Sums(float* v, float* mean, int rows, int c, int c0, int n, double* sum)
    {
        for (var j = 0; j < n; j++)
        {
            sum[j] = 0;
        }
        for (var r = 0; r < rows; r++)
        {
            var row = v + (long)r * c + c0;
            if (mean == null)
            {
                for (var j = 0; j < n; j++)
                {
                    sum[j] += row[j];
                }
            }
            else
            {
                for (var j = 0; j < n; j++)
                {
                    var d = (double)row[j] - mean[j];
                    sum[j] += d * d;
                }
            }
        }
    }

    // sum[j] = Σ_r over rows ascending, in double, of dy·x̂ with x̂ = (x − mean[j])·invStd[j] rounded to float as in dx.
    private static unsafe void ProductSums(float* x, float* dy, float* mean, float* invStd, int rows, int c, int c0, int n, double* sum)
    {
        for (var j = 0; j < n; j++)
        {
            sum[j] = 0;
        }
        for (var r = 0; r < rows; r++)
        {
            var o = (long)r * c + c0;
            for (var j = 0; j < n; j++)
            {
                sum[j] += (double)dy[o + j] * ((x[o + j] - mean[j]) * invStd[j]);
            }
        }
    }

    private static unsafe void Normalize(float* x, float* y, int rows, int c, int c0, int n, float* scale, float* shift)
    {
        for (var r = 0; r < rows; r++)
        {
            var o = (long)r * c + c0;
            for (var j = 0; j < n; j++)
            {
                y[o + j] = x[o + j] * scale[j] + shift[j];
            }
        }
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

    private readonly unsafe struct Job(float* x, float* gamma, float* beta, float* y, float* mean, float* invStd, float* movingMean, float* movingVariance, float* dy, float* dx, float* dgamma, float* dbeta, int rows, int c, float momentum, float epsilon)
    {
        public readonly float* X = x, Gamma = gamma, Beta = beta, Y = y, Mean = mean, InvStd = invStd;
        public readonly float* MovingMean = movingMean, MovingVariance = movingVariance, Dy = dy, Dx = dx, DGamma = dgamma, DBeta = dbeta;
        public readonly int Rows = rows, C = c;
        public readonly float Momentum = momentum, Epsilon = epsilon;
    }
}
