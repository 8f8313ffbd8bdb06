using System.Runtime.Intrinsics;

namespace Kiln.Runtime.Cpu;

/// <summary>Adam and AdamW over one flat parameter buffer; mirror of Runtime.Cuda/Kernels/adam.cu.</summary>
public static class Adam
{
    /// <summary>
    /// One Keras Adam step at 1-based step <paramref name="t"/>:
    /// α = lr·√(1 − β2ᵗ)/(1 − β1ᵗ) (in double, rounded once to float, as the CUDA host computes it);
    /// m += (g − m)(1 − β1); v += (g² − v)(1 − β2); p −= m·α/(√v + ε).
    /// The m and v updates are Keras' algebraic form of m = β1·m + (1 − β1)·g, kept so both runtimes round alike.
    /// </summary>
    public static void Step(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, float lr, float beta1, float beta2, float epsilon, long t)
    {
        if (t < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(t), t, "The Adam step count is 1-based.");
        }
        Update(p, g, m, v, Alpha(lr, beta1, beta2, t), beta1, beta2, epsilon, 0f, lr);
    }

    /// <summary>
    /// One step with the step size <paramref name="alpha"/> already computed (<see cref="Alpha"/>). A nonzero
    /// <paramref name="weightDecay"/> first applies Keras' decoupled decay (AdamW): p −= p·wd·lr.
    /// </summary>
    public static unsafe void Update(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, float alpha, float beta1, float beta2, float epsilon, float weightDecay, float lr)
    {
        Check.Length(g.Length, p.Length, nameof(g));
        Check.Length(m.Length, p.Length, nameof(m));
        Check.Length(v.Length, p.Length, nameof(v));
        fixed (float* pp = p, pg = g, pm = m, pv = v)
        {
            var job = new Job(pp, pg, pm, pv, p.Length, alpha, 1f - beta1, 1f - beta2, epsilon, weightDecay, lr);
            Workers.Run(&Part, &job, Workers.PartsFor(p.Length, 1 << 16));
        }
    }

    // Elements [lo, hi), whole vectors except at the end; every element gets the same operations wherever it falls.
    private static unsafe void Part(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Gemm.Range(job.Length, Vector256<float>.Count, part, parts);
        var (alpha, c1, c2, epsilon) = (job.Alpha, job.C1, job.C2, job.Epsilon);
        float* p = job.P, g = job.G, m = job.M, v = job.V;
        if (job.WeightDecay != 0f)
        {
            // Keras applies the decay before the update, as p − (p·wd)·lr; the update below does not read p.
            for (var k = lo; k < hi; k++)
            {
                p[k] -= p[k] * job.WeightDecay * job.Rate;
            }
        }
        var i = lo;
        if (Vector256.IsHardwareAccelerated)
        {
            // The same operations in the same order as the scalar loop, eight lanes at a time: the same bits.
            var (a, e, k1, k2) = (Vector256.Create(alpha), Vector256.Create(epsilon), Vector256.Create(c1), Vector256.Create(c2));
            for (; i <= hi - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var gi = Vector256.Load(g + i);
                var mi = Vector256.Load(m + i);
                var vi = Vector256.Load(v + i);
                mi += (gi - mi) * k1;
                vi += (gi * gi - vi) * k2;
                mi.Store(m + i);
                vi.Store(v + i);
                (Vector256.Load(p + i) - mi * a / (Vector256.Sqrt(vi) + e)).Store(p + i);
            }
        }
        for (; i < hi; i++)
        {
            var gi = g[i];
            var mi = m[i] + (gi - m[i]) * c1;
            var vi = v[i] + (gi * gi - v[i]) * c2;
            m[i] = mi;
            v[i] = vi;
            p[i] -= mi * alpha / (MathF.Sqrt(vi) + epsilon);
        }
    }

    private readonly unsafe struct Job(float* p, float* g, float* m, float* v, int length, float alpha, float c1, float c2, float epsilon, float weightDecay, float rate)
    {
        public readonly float* P = p, G = g, M = m, V = v;
        public readonly int Length = length;
        public readonly float Alpha = alpha, C1 = c1, C2 = c2, Epsilon = epsilon, WeightDecay = weightDecay, Rate = rate;
    }

    /// <summary>The bias-corrected step size α for step <paramref name="t"/> (also what the CUDA launch passes).</summary>
    public static float Alpha(float lr, float beta1, float beta2, long t) =>
        (float)(lr * Math.Sqrt(1 - Math.Pow(beta2, t)) / (1 - Math.Pow(beta1, t)));
}
