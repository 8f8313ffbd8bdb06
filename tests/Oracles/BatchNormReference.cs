namespace Kiln.Oracles;

/// <summary>Keras 3's BatchNormalization over the last axis of [rows, channels], in float64. Null γ/β: scale/center off.</summary>
public static class BatchNormReference
{
    /// <summary>Training: the batch mean and biased variance, y = (x − mean)/√(var + ε)·γ + β.</summary>
    public static (double[] Y, double[] Mean, double[] Variance) ForwardTraining(double[] x, double[]? gamma, double[]? beta, int rows, int channels, double epsilon)
    {
        var mean = new double[channels];
        var variance = new double[channels];
        for (var c = 0; c < channels; c++)
        {
            for (var r = 0; r < rows; r++)
            {
                mean[c] += x[r * channels + c];
            }
            mean[c] /= rows;
            for (var r = 0; r < rows; r++)
            {
                var d = x[r * channels + c] - mean[c];
                variance[c] += d * d;
            }
            variance[c] /= rows;
        }
        return (Normalize(x, gamma, beta, mean, variance, rows, channels, epsilon), mean, variance);
    }

    /// <summary>Inference (and the training formula with given statistics).</summary>
    public static double[] Normalize(double[] x, double[]? gamma, double[]? beta, double[] mean, double[] variance, int rows, int channels, double epsilon)
    {
        var y = new double[x.Length];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < channels; c++)
            {
                var i = r * channels + c;
                y[i] = (x[i] - mean[c]) / Math.Sqrt(variance[c] + epsilon) * (gamma?[c] ?? 1) + (beta?[c] ?? 0);
            }
        }
        return y;
    }

    /// <summary>Keras' update: moving·momentum + batch·(1 − momentum).</summary>
    public static double[] Moving(double[] moving, double[] batch, double momentum) =>
        moving.Select((m, c) => m * momentum + batch[c] * (1 - momentum)).ToArray();
}
