namespace Kiln.Runtime.Cpu;

/// <summary>RMSprop over one flat parameter buffer, Keras' formulation; mirror of Runtime.Cuda/Kernels/rmsprop.cu.</summary>
public static class RmsProp
{
    /// <summary>
    /// v = ρ·v + (1 − ρ)·g²; centered: a = ρ·a + (1 − ρ)·g and the denominator is v − a² + ε, otherwise v + ε;
    /// inc = lr·g/√denominator; with momentum μ &gt; 0: mom = μ·mom + inc and p −= mom, otherwise p −= inc.
    /// <paramref name="momentum"/> and <paramref name="average"/> may be empty when unused.
    /// </summary>
    public static void Step(Span<float> p, ReadOnlySpan<float> g, Span<float> velocity, Span<float> momentum, Span<float> average,
        float lr, float rho, float mu, float epsilon, bool centered)
    {
        Check.Length(g.Length, p.Length, nameof(g));
        Check.Length(velocity.Length, p.Length, nameof(velocity));
        if (mu > 0f)
        {
            Check.Length(momentum.Length, p.Length, nameof(momentum));
        }
        if (centered)
        {
            Check.Length(average.Length, p.Length, nameof(average));
        }
        var decay = 1f - rho;
        for (var i = 0; i < p.Length; i++)
        {
            var gi = g[i];
            var v = rho * velocity[i] + decay * (gi * gi);
            velocity[i] = v;
            float denominator;
            if (centered)
            {
                var a = rho * average[i] + decay * gi;
                average[i] = a;
                denominator = v - a * a + epsilon;
            }
            else
            {
                denominator = v + epsilon;
            }
            var increment = lr * gi / MathF.Sqrt(denominator);
            if (mu > 0f)
            {
                var m = mu * momentum[i] + increment;
                momentum[i] = m;
                p[i] -= m;
            }
            else
            {
                p[i] -= increment;
            }
        }
    }
}
