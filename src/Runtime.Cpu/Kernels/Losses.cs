namespace Kiln.Runtime.Cpu;

/// <summary>
/// Loss heads; mirror of Runtime.Cuda/Kernels/softmax_xent.cu, sigmoid_bce.cu, mse.cu and mae.cu. Softmax, cross-entropy and its gradient are
/// fused in one pass over each row. Each returns the loss summed over the batch (in double) and writes the gradient of
/// the batch MEAN, so the optimiser sees Keras' gradient.
/// <para>
/// Per-example weights (Keras' <c>sample_weight</c>, or <c>class_weight</c> turned into them): row b's loss and its
/// gradient row are multiplied by weights[b], and the gradient is still divided by the batch size, which is Keras'
/// <c>sum_over_batch_size</c> reduction (Σ w·loss / batch, not / Σ w). Empty weights mean all ones; a weight of one
/// multiplies exactly, so all-ones weights give the bits of the unweighted call. <c>correct</c> and the absolute error
/// stay unweighted (Keras weights its metrics too).
/// </para>
/// </summary>
public static class Losses
{
    /// <summary>
    /// Sparse categorical cross-entropy on logits. probs = softmax(logits) (skipped when <paramref name="probs"/> is
    /// empty); returns Σ_b −log p[b, label] computed as log Σ exp(z − max) − (z[label] − max);
    /// dlogits = (p − onehot) / batch; <paramref name="correct"/> counts rows whose first maximum of p is the label.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside [0, classes); the message names the sample.
    /// Checked before anything is written.</exception>
    public static double SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> probs, Span<float> dlogits, int batch, int classes, out int correct) =>
        SoftmaxCrossEntropy(logits, labels, default, probs, dlogits, batch, classes, out correct);

    /// <summary>The sparse loss above with per-example <paramref name="weights"/> (empty: all ones; see the class remarks).</summary>
    public static double SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, ReadOnlySpan<float> weights, Span<float> probs, Span<float> dlogits, int batch, int classes, out int correct)
    {
        CheckShapes(logits.Length, probs.Length, dlogits.Length, batch, classes);
        Check.Length(labels.Length, batch, nameof(labels));
        CheckWeights(weights.Length, batch);
        for (var b = 0; b < batch; b++)
        {
            if ((uint)labels[b] >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), labels[b], $"The label of sample {b} is {labels[b]}, outside [0, {classes}).");
            }
        }

        var loss = 0.0;
        correct = 0;
        var scale = (float)batch;
        for (var b = 0; b < batch; b++)
        {
            var z = logits.Slice(b * classes, classes);
            var dz = dlogits.Slice(b * classes, classes);
            var p = Row(probs, dz, b, classes);
            var label = labels[b];
            var w = Weight(weights, b);
            var (max, sum) = Exponentiate(z, p);
            loss += w * (Math.Log(sum) - ((double)z[label] - max));
            if (FirstMax(p) == label)
            {
                correct++;
            }
            for (var j = 0; j < classes; j++)
            {
                dz[j] = (p[j] - (j == label ? 1f : 0f)) * w / scale;
            }
        }
        return loss;
    }

    /// <summary>
    /// Categorical cross-entropy on logits with target rows t (one-hot or soft). probs = softmax(logits) (skipped when
    /// <paramref name="probs"/> is empty); returns Σ_b −Σ_c t·log p, with log p = (z − max) − log Σ exp(z − max) and
    /// terms with t = 0 skipped; dlogits = (p·Σt − t) / batch; <paramref name="correct"/> counts rows whose first
    /// maximum of p is at the first maximum of t.
    /// </summary>
    public static double SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> probs, Span<float> dlogits, int batch, int classes, out int correct) =>
        SoftmaxCrossEntropy(logits, targets, default, probs, dlogits, batch, classes, out correct);

    /// <summary>The categorical loss above with per-example <paramref name="weights"/> (empty: all ones; see the class remarks).</summary>
    public static double SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, ReadOnlySpan<float> weights, Span<float> probs, Span<float> dlogits, int batch, int classes, out int correct)
    {
        CheckShapes(logits.Length, probs.Length, dlogits.Length, batch, classes);
        Check.Length(targets.Length, (long)batch * classes, nameof(targets));
        CheckWeights(weights.Length, batch);

        var loss = 0.0;
        correct = 0;
        var scale = (float)batch;
        for (var b = 0; b < batch; b++)
        {
            var z = logits.Slice(b * classes, classes);
            var t = targets.Slice(b * classes, classes);
            var dz = dlogits.Slice(b * classes, classes);
            var p = Row(probs, dz, b, classes);
            var w = Weight(weights, b);
            var (max, sum) = Exponentiate(z, p);
            var logSum = Math.Log(sum);
            var total = 0f;
            for (var j = 0; j < classes; j++)
            {
                if (t[j] != 0f)
                {
                    loss += w * (t[j] * (logSum - ((double)z[j] - max)));
                }
                total += t[j];
            }
            if (FirstMax(p) == FirstMax(t))
            {
                correct++;
            }
            for (var j = 0; j < classes; j++)
            {
                dz[j] = (p[j] * total - t[j]) * w / scale;
            }
        }
        return loss;
    }

    /// <summary>probs = softmax(logits) row by row, stabilised by subtracting the row maximum.</summary>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probs, int batch, int classes)
    {
        Check.Positive(batch, nameof(batch));
        Check.Positive(classes, nameof(classes));
        Check.Length(logits.Length, (long)batch * classes, nameof(logits));
        Check.Length(probs.Length, logits.Length, nameof(probs));
        for (var b = 0; b < batch; b++)
        {
            Exponentiate(logits.Slice(b * classes, classes), probs.Slice(b * classes, classes));
        }
    }

    /// <summary>
    /// Keras mean squared error: per-sample mean of (y − t)² over <paramref name="size"/>; returns the sum over the batch
    /// of the per-sample losses; dy = 2(y − t) / (size·batch).
    /// </summary>
    public static double MeanSquaredError(ReadOnlySpan<float> y, ReadOnlySpan<float> targets, Span<float> dy, int batch, int size) =>
        MeanSquaredError(y, targets, dy, batch, size, out _);

    /// <summary>
    /// <see cref="MeanSquaredError(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int)"/>, also giving
    /// Keras' <c>mae</c> metric summed over the batch: <paramref name="absoluteError"/> = Σ_b mean over the sample of |y − t|.
    /// </summary>
    public static double MeanSquaredError(ReadOnlySpan<float> y, ReadOnlySpan<float> targets, Span<float> dy, int batch, int size, out double absoluteError) =>
        MeanSquaredError(y, targets, default, dy, batch, size, out absoluteError);

    /// <summary>Mean squared error with per-example <paramref name="weights"/> (empty: all ones; see the class remarks).</summary>
    public static double MeanSquaredError(ReadOnlySpan<float> y, ReadOnlySpan<float> targets, ReadOnlySpan<float> weights, Span<float> dy, int batch, int size, out double absoluteError)
    {
        CheckRegression(y.Length, targets.Length, weights.Length, dy.Length, batch, size);
        var scale = 2f / ((float)size * batch);
        var loss = 0.0;
        absoluteError = 0.0;
        for (var b = 0; b < batch; b++)
        {
            var (row, absolute) = (0.0, 0.0);
            var w = Weight(weights, b);
            for (var i = b * size; i < (b + 1) * size; i++)
            {
                var d = y[i] - targets[i];
                row += (double)d * d;
                absolute += Math.Abs(d);
                dy[i] = d * scale * w;
            }
            loss += w * (row / size);
            absoluteError += absolute / size;
        }
        return loss;
    }

    /// <summary>
    /// Keras mean absolute error: per-sample mean of |y − t| over <paramref name="size"/>, times the sample's weight
    /// (empty <paramref name="weights"/>: all ones); returns the sum over the batch; dy = w·sign(y − t) / (size·batch),
    /// 0 where y = t (TensorFlow's gradient of |x| at 0). <paramref name="absoluteError"/> is the unweighted sum, the
    /// <c>mae</c> metric.
    /// </summary>
    public static double MeanAbsoluteError(ReadOnlySpan<float> y, ReadOnlySpan<float> targets, ReadOnlySpan<float> weights, Span<float> dy, int batch, int size, out double absoluteError)
    {
        CheckRegression(y.Length, targets.Length, weights.Length, dy.Length, batch, size);
        var scale = 1f / ((float)size * batch);
        var loss = 0.0;
        absoluteError = 0.0;
        for (var b = 0; b < batch; b++)
        {
            var row = 0.0;
            var w = Weight(weights, b);
            for (var i = b * size; i < (b + 1) * size; i++)
            {
                var d = y[i] - targets[i];
                row += Math.Abs(d);
                // Not MathF.Sign, which throws on the NaN a diverging step may bring (the loss reports it instead).
                dy[i] = (d > 0 ? scale : d < 0 ? -scale : 0f) * w;
            }
            loss += w * (row / size);
            absoluteError += row / size;
        }
        return loss;
    }

    // p = exp(z − max) / Σ exp(z − max) written to p; returns (max, Σ) for the log-sum-exp.
    private static (float Max, float Sum) Exponentiate(ReadOnlySpan<float> z, Span<float> p)
    {
        var max = float.NegativeInfinity;
        foreach (var v in z)
        {
            max = MathF.Max(max, v);
        }
        var sum = 0f;
        for (var j = 0; j < z.Length; j++)
        {
            p[j] = MathF.Exp(z[j] - max);
            sum += p[j];
        }
        for (var j = 0; j < z.Length; j++)
        {
            p[j] /= sum;
        }
        return (max, sum);
    }

    // Index of the first maximum (ties go to the lowest index).
    private static int FirstMax(ReadOnlySpan<float> v)
    {
        var best = 0;
        for (var j = 1; j < v.Length; j++)
        {
            if (v[j] > v[best])
            {
                best = j;
            }
        }
        return best;
    }

    // Row b of probs, or the gradient row itself (overwritten element by element) when probs are not wanted.
    private static Span<float> Row(Span<float> probs, Span<float> dz, int b, int classes) =>
        probs.IsEmpty ? dz : probs.Slice(b * classes, classes);

    /// <summary>
    /// Binary cross-entropy on logits (Keras' <c>from_logits=True</c>, or a sigmoid head fused with its loss): per
    /// element max(z, 0) − z·t + log(1 + exp(−|z|)), averaged over the <paramref name="size"/> outputs of a sample;
    /// returns the sum over the batch. probs = sigmoid(z) (skipped when <paramref name="probs"/> is empty);
    /// dlogits = (sigmoid(z) − t) / (size·batch). <paramref name="correct"/> counts the (sample, output) pairs where
    /// sigmoid(z) &gt; 0.5 agrees with t &gt; 0.5 (Keras' binary accuracy, threshold 0.5), so binary accuracy is
    /// correct / (batch·size).
    /// </summary>
    public static double SigmoidBinaryCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> probs, Span<float> dlogits, int batch, int size, out int correct) =>
        SigmoidBinaryCrossEntropy(logits, targets, default, probs, dlogits, batch, size, out correct);

    /// <summary>Binary crossentropy with per-example <paramref name="weights"/> (empty: all ones; see the class remarks).</summary>
    public static double SigmoidBinaryCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, ReadOnlySpan<float> weights, Span<float> probs, Span<float> dlogits, int batch, int size, out int correct)
    {
        CheckShapes(logits.Length, probs.Length, dlogits.Length, batch, size);
        Check.Length(targets.Length, logits.Length, nameof(targets));
        CheckWeights(weights.Length, batch);
        var scale = (float)size * batch;
        var loss = 0.0;
        correct = 0;
        for (var b = 0; b < batch; b++)
        {
            var row = 0.0;
            var w = Weight(weights, b);
            for (var i = b * size; i < (b + 1) * size; i++)
            {
                var (z, t) = (logits[i], targets[i]);
                var p = Sigmoid(z);
                row += Math.Max(z, 0.0) - (double)z * t + Math.Log(1 + (double)MathF.Exp(-MathF.Abs(z)));
                if (probs.Length != 0)
                {
                    probs[i] = p;
                }
                dlogits[i] = (p - t) * w / scale;
                correct += (p > 0.5f) == (t > 0.5f) ? 1 : 0;
            }
            loss += w * (row / size);
        }
        return loss;
    }

    /// <summary>probs = sigmoid(logits) element by element, in the two-branch form the binary crossentropy uses.</summary>
    public static void Sigmoid(ReadOnlySpan<float> logits, Span<float> probs)
    {
        Check.Length(probs.Length, logits.Length, nameof(probs));
        for (var i = 0; i < logits.Length; i++)
        {
            probs[i] = Sigmoid(logits[i]);
        }
    }

    // exp(−|z|) never overflows; the two branches keep the small values of the sigmoid exact.
    private static float Sigmoid(float z)
    {
        var e = MathF.Exp(-MathF.Abs(z));
        return z >= 0 ? 1f / (1f + e) : e / (1f + e);
    }

    private static float Weight(ReadOnlySpan<float> weights, int b) => weights.IsEmpty ? 1f : weights[b];

    // The regression losses' arguments: y, targets and dy of batch × size, optional weights of batch.
    private static void CheckRegression(int yLength, int targetsLength, int weightsLength, int dyLength, int batch, int size)
    {
        Check.Positive(batch, nameof(batch));
        Check.Positive(size, nameof(size));
        Check.Length(yLength, (long)batch * size, "y");
        Check.Length(targetsLength, yLength, "targets");
        Check.Length(dyLength, yLength, "dy");
        CheckWeights(weightsLength, batch);
    }

    private static void CheckWeights(int length, int batch)
    {
        if (length != 0)
        {
            Check.Length(length, batch, "weights");
        }
    }

    private static void CheckShapes(int logitsLength, int probsLength, int dlogitsLength, int batch, int classes)
    {
        Check.Positive(batch, nameof(batch));
        Check.Positive(classes, nameof(classes));
        Check.Length(logitsLength, (long)batch * classes, "logits");
        if (probsLength != 0)
        {
            Check.Length(probsLength, (long)batch * classes, "probs");
        }
        Check.Length(dlogitsLength, (long)batch * classes, "dlogits");
    }
}
