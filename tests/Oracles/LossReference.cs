using Kiln.Runtime.Cpu;

namespace Kiln.Oracles;

public static class LossReference
{
    public static double[] Softmax(double[] z, int batch, int classes)
    {
        var p = new double[z.Length];
        for (var b = 0; b < batch; b++)
        {
            var max = double.NegativeInfinity;
            for (var j = 0; j < classes; j++)
            {
                max = Math.Max(max, z[b * classes + j]);
            }
            var sum = 0.0;
            for (var j = 0; j < classes; j++)
            {
                sum += Math.Exp(z[b * classes + j] - max);
            }
            for (var j = 0; j < classes; j++)
            {
                p[b * classes + j] = Math.Exp(z[b * classes + j] - max) / sum;
            }
        }
        return p;
    }

    /// <summary>Σ_b −Σ_c t·log p, with t given as full rows (one-hot for sparse labels).</summary>
    public static double CrossEntropy(double[] z, double[] t, int batch, int classes)
    {
        var p = Softmax(z, batch, classes);
        var loss = 0.0;
        for (var i = 0; i < z.Length; i++)
        {
            loss -= t[i] * Math.Log(p[i]);
        }
        return loss;
    }

    public static double[] OneHot(int[] labels, int classes)
    {
        var t = new double[labels.Length * classes];
        for (var b = 0; b < labels.Length; b++)
        {
            t[b * classes + labels[b]] = 1;
        }
        return t;
    }

    /// <summary>∂(loss/batch)/∂z = (p·Σt − t)/batch.</summary>
    public static double[] CrossEntropyGradient(double[] z, double[] t, int batch, int classes)
    {
        var p = Softmax(z, batch, classes);
        var g = new double[z.Length];
        for (var b = 0; b < batch; b++)
        {
            var total = 0.0;
            for (var j = 0; j < classes; j++)
            {
                total += t[b * classes + j];
            }
            for (var j = 0; j < classes; j++)
            {
                var i = b * classes + j;
                g[i] = (p[i] * total - t[i]) / batch;
            }
        }
        return g;
    }

    public static int ArgMax(double[] v, int row, int classes)
    {
        var best = 0;
        for (var j = 1; j < classes; j++)
        {
            if (v[row * classes + j] > v[row * classes + best])
            {
                best = j;
            }
        }
        return best;
    }

    /// <summary>Σ_b mean_i (y − t)².</summary>
    public static double MeanSquaredError(double[] y, double[] t, int batch, int size)
    {
        var loss = 0.0;
        for (var b = 0; b < batch; b++)
        {
            var s = 0.0;
            for (var i = b * size; i < (b + 1) * size; i++)
            {
                s += (y[i] - t[i]) * (y[i] - t[i]);
            }
            loss += s / size;
        }
        return loss;
    }

    /// <summary>Σ_b mean_i of −t·log σ(z) − (1 − t)·log(1 − σ(z)), in the stable form (Keras' binary crossentropy on logits).</summary>
    public static double BinaryCrossEntropy(double[] z, double[] t, int batch, int size)
    {
        var loss = 0.0;
        for (var b = 0; b < batch; b++)
        {
            var row = 0.0;
            for (var i = b * size; i < (b + 1) * size; i++)
            {
                var logSigmoid = Math.Min(z[i], 0) - Math.Log(1 + Math.Exp(-Math.Abs(z[i])));
                row += -t[i] * logSigmoid - (1 - t[i]) * (logSigmoid - z[i]);
            }
            loss += row / size;
        }
        return loss;
    }

    /// <summary>Σ_b mean_i |y − t| (Keras' <c>mae</c>, summed over the batch).</summary>
    public static double MeanAbsoluteError(double[] y, double[] t, int batch, int size)
    {
        var sum = 0.0;
        for (var b = 0; b < batch; b++)
        {
            var s = 0.0;
            for (var i = b * size; i < (b + 1) * size; i++)
            {
                s += Math.Abs(y[i] - t[i]);
            }
            sum += s / size;
        }
        return sum;
    }

    /// <summary>
    /// Σ_b w_b · loss(row b): a per-batch loss (summed over its rows, like the ones above) applied row by row and
    /// weighted, which is Keras' sample-weighted sum before its division by the batch size.
    /// </summary>
    public static double Weighted(Func<double[], double[], double> rowLoss, double[] y, double[] t, double[] weights, int size)
    {
        var loss = 0.0;
        for (var b = 0; b < weights.Length; b++)
        {
            loss += weights[b] * rowLoss(y[(b * size)..((b + 1) * size)], t[(b * size)..((b + 1) * size)]);
        }
        return loss;
    }
}
