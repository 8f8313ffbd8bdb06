namespace Kiln.Runtime.Cpu;

/// <summary>Adagrad over one flat parameter buffer, Keras' formulation; mirror of Runtime.Cuda/Kernels/adagrad.cu.</summary>
public static class Adagrad
{
    /// <summary>acc += g²; p −= lr·g/√(acc + ε). Keras starts the accumulator at 0.1, not zero.</summary>
    public static void Step(Span<float> p, ReadOnlySpan<float> g, Span<float> accumulator, float lr, float epsilon)
    {
        Check.Length(g.Length, p.Length, nameof(g));
        Check.Length(accumulator.Length, p.Length, nameof(accumulator));
        for (var i = 0; i < p.Length; i++)
        {
            var gi = g[i];
            var a = accumulator[i] + gi * gi;
            accumulator[i] = a;
            p[i] -= lr * gi / MathF.Sqrt(a + epsilon);
        }
    }
}
