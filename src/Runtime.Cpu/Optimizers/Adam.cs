using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Runtime.Cpu;

/// <summary>Adam over one flat parameter buffer; mirror of Runtime.Cuda/Kernels/adam.cu.</summary>
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
        Check.Length(g.Length, p.Length, nameof(g));
        Check.Length(m.Length, p.Length, nameof(m));
        Check.Length(v.Length, p.Length, nameof(v));
        if (t < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(t), t, "The Adam step count is 1-based.");
        }
        var alpha = Alpha(lr, beta1, beta2, t);
        var c1 = 1f - beta1;
        var c2 = 1f - beta2;
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // The same operations in the same order as the scalar loop, eight lanes at a time: the same bits.
            ref var pr = ref MemoryMarshal.GetReference(p);
            ref var mr = ref MemoryMarshal.GetReference(m);
            ref var vr = ref MemoryMarshal.GetReference(v);
            ref readonly var gr = ref MemoryMarshal.GetReference(g);
            var (a, e, k1, k2) = (Vector256.Create(alpha), Vector256.Create(epsilon), Vector256.Create(c1), Vector256.Create(c2));
            for (; i <= p.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var at = (nuint)i;
                var gi = Vector256.LoadUnsafe(in gr, at);
                var mi = Vector256.LoadUnsafe(ref mr, at);
                var vi = Vector256.LoadUnsafe(ref vr, at);
                mi += (gi - mi) * k1;
                vi += (gi * gi - vi) * k2;
                mi.StoreUnsafe(ref mr, at);
                vi.StoreUnsafe(ref vr, at);
                (Vector256.LoadUnsafe(ref pr, at) - mi * a / (Vector256.Sqrt(vi) + e)).StoreUnsafe(ref pr, at);
            }
        }
        for (; i < p.Length; i++)
        {
            var gi = g[i];
            var mi = m[i] + (gi - m[i]) * c1;
            var vi = v[i] + (gi * gi - v[i]) * c2;
            m[i] = mi;
            v[i] = vi;
            p[i] -= mi * alpha / (MathF.Sqrt(vi) + epsilon);
        }
    }

    /// <summary>The bias-corrected step size α for step <paramref name="t"/> (also what the CUDA launch passes).</summary>
    public static float Alpha(float lr, float beta1, float beta2, long t) =>
        (float)(lr * Math.Sqrt(1 - Math.Pow(beta2, t)) / (1 - Math.Pow(beta1, t)));
}
