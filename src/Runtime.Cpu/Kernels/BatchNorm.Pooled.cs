using System.Buffers;

namespace Kiln.Runtime.Cpu;

/// <summary>
/// BatchNorm with its activation and the max pool after it (Conv → BatchNorm → ReLU → MaxPool2D): forward in one pass
/// that writes only the pool's output and argmax, never the activated map; backward from the pool's gradient, never
/// writing the activated map's.
/// </summary>
/// <remarks>
/// After the statistics, each part takes whole samples; for each output row it normalises and activates the input
/// rows that row's windows read into a small band (Pool rows of the image) and pools the band with
/// <see cref="MaxPool2D"/>'s own row kernel, so every element goes through the same operations as the three steps
/// apart and the bits are theirs. Overlapping windows normalise their shared rows again rather than keep them.
/// </remarks>
public static partial class BatchNorm
{
    /// <summary>
    /// <see cref="ForwardTraining(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float}, Span{float}, Span{float}, int, int, float, float, Epilogue, float)"/>
    /// then <see cref="MaxPool2D.Forward"/> over its output: x [batch, g.InH, g.InW, g.Channels] (rows = batch·InH·InW),
    /// poolY and poolArgmax [batch, g.OutH, g.OutW, g.Channels] (an empty argmax is not written).
    /// </summary>
    public static unsafe void ForwardTrainingPooled(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> poolY, Span<int> poolArgmax, Span<float> batchMean, Span<float> batchInvStd, Span<float> movingMean, Span<float> movingVariance, int batch, in PoolGeometry g, float momentum, float epsilon, Epilogue act, float alpha)
    {
        CheckPooled(x.Length, poolY.Length, poolArgmax.Length, gamma.Length, beta.Length, batch, g, epsilon, act, alpha);
        CheckTraining(batchMean, batchInvStd, movingMean, movingVariance, g.Channels, momentum);
        var affine = ArrayPool<float>.Shared.Rent(2 * g.Channels);
        try
        {
            TrainingAffine(x, gamma, beta, batchMean, batchInvStd, movingMean, movingVariance, batch * g.InH * g.InW, g.Channels, momentum, epsilon, affine);
            NormalizePooled(x, affine, poolY, poolArgmax, batch, g, act, alpha);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(affine);
        }
    }

    /// <summary>
    /// <see cref="ForwardInference(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, float, Epilogue, float)"/>
    /// then <see cref="MaxPool2D.Forward"/> over its output, with no argmax (shapes as <see cref="ForwardTrainingPooled"/>).
    /// </summary>
    public static void ForwardInferencePooled(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> movingMean, ReadOnlySpan<float> movingVariance, Span<float> poolY, int batch, in PoolGeometry g, float epsilon, Epilogue act, float alpha)
    {
        CheckPooled(x.Length, poolY.Length, 0, gamma.Length, beta.Length, batch, g, epsilon, act, alpha);
        CheckInference(movingMean, movingVariance, g.Channels);
        var affine = ArrayPool<float>.Shared.Rent(3 * g.Channels);
        try
        {
            InferenceAffine(gamma, beta, movingMean, movingVariance, g.Channels, epsilon, affine);
            NormalizePooled(x, affine, poolY, default, batch, g, act, alpha);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(affine);
        }
    }

    /// <summary>
    /// The fused backward of a linear, ReLU or LeakyReLU activation from the gradient of the max pool after it: poolDy
    /// and poolArgmax [batch, g.OutH, g.OutW, g.Channels] as <see cref="MaxPool2D.Backward"/> takes them, windows that do
    /// not overlap (stride = pool size). The bits of <see cref="MaxPool2D.Backward"/> into a buffer, then
    /// <see cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Epilogue, float, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float}, int, int)"/>
    /// from it; that buffer is never written: each cell's gradient is read from its window as the passes need it.
    /// </summary>
    public static unsafe void BackwardThroughPool(ReadOnlySpan<float> x, ReadOnlySpan<float> poolDy, ReadOnlySpan<int> poolArgmax, Epilogue act, float alpha, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> batchMean, ReadOnlySpan<float> batchInvStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta, int batch, in PoolGeometry g)
    {
        CheckActivation(act, alpha);
        if (!DerivativeFromSign(act))
        {
            throw new ArgumentException($"{act}'s derivative is written from the activation's output, which the pooled backward does not have: run MaxPool2D.Backward, then Backward with the output.", nameof(act));
        }
        Check.Positive(batch, nameof(batch));
        g.Validate();
        if (g.Stride != g.Pool)
        {
            throw new ArgumentException($"The pool's windows overlap (pool {g.Pool}, stride {g.Stride}): the pooled backward needs each cell in one window at most.", nameof(g));
        }
        Check.Length(x.Length, (long)batch * g.InSize, nameof(x));
        Check.Length(poolDy.Length, (long)batch * g.OutSize, nameof(poolDy));
        Check.Length(poolArgmax.Length, poolDy.Length, nameof(poolArgmax));
        fixed (float* pdy = poolDy)
        fixed (int* pargmax = poolArgmax)
        {
            BackwardPasses(x, null, pdy, pargmax, g, act, alpha, gamma, beta, batchMean, batchInvStd, dx, dgamma, dbeta, batch * g.InH * g.InW, g.Channels);
        }
    }

    private static void CheckPooled(int xLength, int yLength, int argmaxLength, int gammaLength, int betaLength, int batch, in PoolGeometry g, float epsilon, Epilogue act, float alpha)
    {
        CheckActivation(act, alpha);
        Check.Positive(batch, nameof(batch));
        g.Validate();
        Check.Length(xLength, (long)batch * g.InSize, "x");
        Check.Length(yLength, (long)batch * g.OutSize, "poolY");
        MaxPool2D.CheckArgmax(argmaxLength, yLength);
        CheckShapes(xLength, xLength, gammaLength, betaLength, batch * g.InH * g.InW, g.Channels, epsilon);
    }

    private static unsafe void NormalizePooled(ReadOnlySpan<float> x, float[] affine, Span<float> y, Span<int> argmax, int batch, in PoolGeometry g, Epilogue act, float alpha)
    {
        fixed (float* px = x, py = y, paffine = affine)
        fixed (int* pargmax = argmax)
        {
            var job = new PooledJob(px, py, pargmax, paffine, batch, g, act, alpha);
            Workers.Run(&NormalizePooledPart, &job, (int)Math.Min(batch, Workers.PartsFor((long)batch * g.InSize, 1 << 14)));
        }
    }

    // Samples [lo, hi): per output row, the input rows its windows read, normalised and activated into the band, pooled.
    private static unsafe void NormalizePooledPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(PooledJob*)state;
        var g = job.Geometry;
        var (c, row) = (g.Channels, g.InW * g.Channels);
        var (lo, hi) = Gemm.Range(job.Batch, 1, part, parts);
        var band = ArrayPool<float>.Shared.Rent(g.Pool * row);
        try
        {
            fixed (float* pband = band)
            {
                for (var b = lo; b < hi; b++)
                {
                    var xs = job.X + (long)b * g.InSize;
                    for (var oh = 0; oh < g.OutH; oh++)
                    {
                        var ih0 = oh * g.Stride - g.PadTop;
                        var (first, last) = (Math.Max(0, ih0), Math.Min(g.InH, ih0 + g.Pool));
                        for (var ih = first; ih < last; ih++)
                        {
                            var src = xs + (long)ih * row;
                            var dst = pband + (long)(ih - first) * row;
                            for (var iw = 0; iw < g.InW; iw++)
                            {
                                NormalizeRow(src + iw * c, dst + iw * c, job.Affine, job.Affine + c, c, job.Act == Epilogue.Relu);
                            }
                            if (job.Act is not (Epilogue.Linear or Epilogue.Relu))
                            {
                                Activations.ForwardRange(dst, dst, row, job.Act, job.Alpha);
                            }
                        }
                        // The band holds rows [first, last): MaxPool2D.Row reads only those, at their index in the sample.
                        var o = ((long)b * g.OutH + oh) * g.OutW * c;
                        MaxPool2D.Row(pband - (long)first * row, g, oh, job.Y + o, job.Argmax == null ? null : job.Argmax + o);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(band);
        }
    }

    private readonly unsafe struct PooledJob(float* x, float* y, int* argmax, float* affine, int batch, PoolGeometry geometry, Epilogue act, float alpha)
    {
        public readonly float* X = x, Y = y, Affine = affine;
        public readonly int* Argmax = argmax;
        public readonly int Batch = batch;
        public readonly PoolGeometry Geometry = geometry;
        public readonly Epilogue Act = act;
        public readonly float Alpha = alpha;
    }
}
