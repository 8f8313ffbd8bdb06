namespace Kiln.Runtime.Cpu;

/// <summary>Weight initialisers (Keras defaults). Biases start at zero and need no call.</summary>
public static class Init
{
    /// <summary>
    /// Glorot (Xavier) uniform: w ~ U(−l, l), l = √(6/(fanIn + fanOut)), drawn in order from <paramref name="rng"/>.
    /// Dense: fanIn = inF, fanOut = outF; Conv2D: fanIn = K·K·InC, fanOut = K·K·OutC.
    /// </summary>
    public static void GlorotUniform(Span<float> w, int fanIn, int fanOut, ref Rng rng)
    {
        Check.Positive(fanIn, nameof(fanIn));
        Check.Positive(fanOut, nameof(fanOut));
        var limit = MathF.Sqrt(6f / (fanIn + fanOut));
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = (2f * rng.NextFloat() - 1f) * limit;
        }
    }
}
