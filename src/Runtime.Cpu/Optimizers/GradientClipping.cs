namespace Kiln.Runtime.Cpu;

/// <summary>
/// Keras' gradient clipping, applied before the optimizer's step; mirror of Runtime.Cuda/Kernels/clip.cu.
/// Sums of squares run in double, in index order, so the result does not depend on the number of threads.
/// </summary>
public static class GradientClipping
{
    /// <summary><c>clipvalue</c>: every element into [−v, v].</summary>
    public static void ByValue(Span<float> g, float value)
    {
        for (var i = 0; i < g.Length; i++)
        {
            g[i] = Math.Clamp(g[i], -value, value);
        }
    }

    /// <summary>
    /// <c>clipnorm</c> on one tensor: g·c / max(‖g‖, c), as Keras writes it (so a gradient already inside the ball is
    /// multiplied and divided by c, not left alone).
    /// </summary>
    public static void ByNorm(Span<float> g, float clipNorm)
    {
        var norm = (float)Math.Sqrt(SumOfSquares(g));
        var divisor = MathF.Max(norm, clipNorm);
        for (var i = 0; i < g.Length; i++)
        {
            g[i] = g[i] * clipNorm / divisor;
        }
    }

    /// <summary>
    /// <c>global_clipnorm</c> over every trainable tensor: scale = c·min(1/‖g‖, 1/c) + (‖g‖ − ‖g‖), so a
    /// non-finite norm makes every gradient NaN (and the loss check stops training), as in Keras.
    /// </summary>
    public static void ByGlobalNorm(Span<float> g, float clipNorm)
    {
        var norm = (float)Math.Sqrt(SumOfSquares(g));
        var scale = clipNorm * MathF.Min(1f / norm, 1f / clipNorm) + (norm - norm);
        for (var i = 0; i < g.Length; i++)
        {
            g[i] *= scale;
        }
    }

    private static double SumOfSquares(ReadOnlySpan<float> g)
    {
        var sum = 0.0;
        foreach (var x in g)
        {
            sum += (double)x * x;
        }
        return sum;
    }
}
