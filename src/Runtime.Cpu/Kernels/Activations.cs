using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Runtime.Cpu;

/// <summary>
/// Element-wise activations (Keras 3's formulas), fused epilogues and standalone layers; mirror of
/// Runtime.Cuda/Kernels/activations.cu. Static and stateless: calls on distinct buffers may run concurrently.
/// </summary>
/// <remarks>
/// f and f′ per <see cref="Epilogue"/>, with α the LeakyReLU slope or the ELU alpha (fused kernels: 0.2 and 1):
/// relu max(x, 0), f′ = y &gt; 0; sigmoid 1/(1 + e^−x), f′ = y(1 − y); tanh, f′ = 1 − y²; leaky_relu x &gt; 0 ? x : αx,
/// f′ = y &gt; 0 ? 1 : α; elu x &gt; 0 ? x : α·expm1(x), f′ = y &gt; 0 ? 1 : y + α; gelu ½·x·erfc(−x/√2),
/// f′ = Φ(x) + x·φ(x); swish x·s with s = sigmoid(x), f′ = s(1 + x(1 − s)); softplus max(x, 0) + log1p(e^−|x|),
/// f′ = sigmoid(x) = −expm1(−y). All but gelu and swish write f′ from the output y (x need not be kept); α ≥ 0, so
/// that y &gt; 0 exactly when x &gt; 0. Element-wise, so any split over threads gives the serial bits.
/// </remarks>
public static class Activations
{
    /// <summary>Keras' <c>leaky_relu</c> default slope, used by the fused epilogue.</summary>
    public const float LeakyReluSlope = 0.2f;

    /// <summary>Keras' <c>elu</c> default alpha, used by the fused epilogue.</summary>
    public const float EluAlpha = 1f;

    /// <summary>y = f(y) in place, with the fused parameters (LeakyReLU 0.2, ELU 1).</summary>
    public static void Forward(Span<float> y, Epilogue act) => Forward(y, y, act, DefaultAlpha(act));

    /// <summary>
    /// y = f(x) for a standalone activation layer; <paramref name="alpha"/> is the LeakyReLU negative slope or the ELU
    /// alpha (ignored by the others). x and y may be the same buffer.
    /// </summary>
    public static unsafe void Forward(ReadOnlySpan<float> x, Span<float> y, Epilogue act, float alpha)
    {
        Check.Length(y.Length, x.Length, nameof(y));
        CheckAlpha(act, alpha);
        var parts = Parts(x.Length, act);
        fixed (float* px = x, py = y)
        {
            var job = new Job(px, py, null, null, x.Length, act, alpha);
            if (parts == 1)
            {
                ForwardRange(job, 0, x.Length);
                return;
            }
            Workers.Run(&ForwardPart, &job, parts);
        }
    }

    /// <summary>
    /// dy ·= f′ in place, with f′ written from the output y = f(z) (so z need not be kept) and the fused parameters.
    /// Gelu and Swish are refused: their derivative needs the input (<see cref="BackwardNeedsInput"/>).
    /// </summary>
    public static unsafe void Backward(ReadOnlySpan<float> y, Span<float> dy, Epilogue act)
    {
        Check.Length(dy.Length, y.Length, nameof(dy));
        RefuseInputDerivative(act, nameof(act));
        Backward(default, y, dy, dy, act, DefaultAlpha(act));
    }

    /// <summary>
    /// dx = dy·f′ for a standalone activation layer (<paramref name="alpha"/> as in <see cref="Forward(ReadOnlySpan{float}, Span{float}, Epilogue, float)"/>).
    /// x is read only where <see cref="BackwardNeedsInput"/> (Gelu, Swish) and may otherwise be empty; y = f(x) is read
    /// by the others. dx may be dy's buffer.
    /// </summary>
    public static unsafe void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, Epilogue act, float alpha)
    {
        CheckAlpha(act, alpha);
        if (BackwardNeedsInput(act))
        {
            Check.Length(x.Length, dy.Length, nameof(x));
        }
        else
        {
            Check.Length(y.Length, dy.Length, nameof(y));
        }
        Check.Length(dx.Length, dy.Length, nameof(dx));
        var parts = Parts(dy.Length, act);
        fixed (float* px = x, py = y, pdy = dy, pdx = dx)
        {
            var job = new Job(px, py, pdy, pdx, dy.Length, act, alpha);
            if (parts == 1)
            {
                BackwardRange(job, 0, dy.Length);
                return;
            }
            Workers.Run(&BackwardPart, &job, parts);
        }
    }

    /// <summary>True for Gelu and Swish, whose derivative is not a function of the output: their backward reads x.</summary>
    public static bool BackwardNeedsInput(Epilogue act) => act is Epilogue.Gelu or Epilogue.Swish;

    /// <summary>The parameter a fused epilogue uses: the LeakyReLU slope 0.2, the ELU alpha 1, else 0 (unused).</summary>
    public static float DefaultAlpha(Epilogue act) => act switch
    {
        Epilogue.LeakyRelu => LeakyReluSlope,
        Epilogue.Elu => EluAlpha,
        _ => 0f,
    };

    /// <summary>Throws unless <paramref name="act"/> is a defined code.</summary>
    public static void CheckDefined(Epilogue act, string name)
    {
        if (act is < Epilogue.Linear or > Epilogue.Softplus or (Epilogue)4)
        {
            throw new ArgumentOutOfRangeException(name, act, "Unknown activation (codes 0–3 and 5–9; 4 is softmax, not an epilogue).");
        }
    }

    /// <summary>
    /// Throws unless <paramref name="act"/> is defined and its derivative is a function of the output, as every fused
    /// backward path (which keeps only the output) needs.
    /// </summary>
    public static void RefuseInputDerivative(Epilogue act, string name)
    {
        CheckDefined(act, name);
        if (BackwardNeedsInput(act))
        {
            throw new ArgumentException($"{act}'s derivative needs the activation's input, which a fused kernel does not keep: run it as a separate activation step (Activations.Forward/Backward with x).", name);
        }
    }

    /// <summary>The activation of one value, as the kernels compute it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float v, Epilogue act, float alpha) => act switch
    {
        Epilogue.Relu => Relu(v),
        Epilogue.Sigmoid => Sigmoid(v),
        Epilogue.Tanh => Tanh(v),
        Epilogue.LeakyRelu => v > 0f ? v : alpha * v,
        Epilogue.Elu => v > 0f ? v : alpha * (float)ScalarMath.ExpM1(v),
        Epilogue.Gelu => Gelu(v),
        Epilogue.Swish => (float)(v / (1 + Math.Exp(-(double)v))), // in double: e^−v overflows float below −88
        Epilogue.Softplus => Softplus(v),
        _ => v,
    };

    /// <summary>dy·f′ from the output y (every activation but Gelu and Swish), as the kernels compute it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float GradientFromOutput(float y, float dy, Epilogue act, float alpha) => act switch
    {
        Epilogue.Relu => y > 0f ? dy : 0f,
        Epilogue.Sigmoid => dy * (y * (1f - y)),
        Epilogue.Tanh => dy * (1f - y * y),
        Epilogue.LeakyRelu => y > 0f ? dy : dy * alpha,
        Epilogue.Elu => y > 0f ? dy : dy * (y + alpha),
        Epilogue.Softplus => dy * (float)-ScalarMath.ExpM1(-(double)y),
        _ => dy,
    };

    /// <summary>dy·f′ from the input x, for Gelu and Swish.</summary>
    public static float GradientFromInput(float x, float dy, Epilogue act)
    {
        if (act == Epilogue.Swish)
        {
            var s = Sigmoid(x);
            return dy * (s * (1f + x * (1f - s)));
        }
        // Φ(x) + x·φ(x), in double: erfc and the density both come from double arithmetic.
        var z = (double)x;
        var derivative = 0.5 * ScalarMath.Erfc(-z * 0.70710678118654752) + z * Math.Exp(-0.5 * z * z) * 0.3989422804014327;
        return dy * (float)derivative;
    }

    /// <summary>db[o] = Σ_r dz[r, o], rows in ascending order (a fixed reduction order; lanes run across o).</summary>
    internal static void BiasBackward(ReadOnlySpan<float> dz, Span<float> db)
    {
        const int lanes = 8;
        var n = db.Length;
        if (n < lanes)
        {
            NarrowBiasBackward(dz, db);
            return;
        }
        ref readonly var z = ref MemoryMarshal.GetReference(dz);
        var o = 0;
        // Four column vectors at a time, summed in registers: no store-to-load chain through db per row.
        for (; o <= n - 4 * lanes; o += 4 * lanes)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (var r = o; r < dz.Length; r += n)
            {
                s0 += Vector256.LoadUnsafe(in z, (nuint)r);
                s1 += Vector256.LoadUnsafe(in z, (nuint)(r + lanes));
                s2 += Vector256.LoadUnsafe(in z, (nuint)(r + 2 * lanes));
                s3 += Vector256.LoadUnsafe(in z, (nuint)(r + 3 * lanes));
            }
            s0.CopyTo(db[o..]);
            s1.CopyTo(db[(o + lanes)..]);
            s2.CopyTo(db[(o + 2 * lanes)..]);
            s3.CopyTo(db[(o + 3 * lanes)..]);
        }
        for (; o <= n - lanes; o += lanes)
        {
            var sum = Vector256<float>.Zero;
            for (var r = o; r < dz.Length; r += n)
            {
                sum += Vector256.LoadUnsafe(in z, (nuint)r);
            }
            sum.CopyTo(db[o..]);
        }
        for (; o < n; o++)
        {
            var sum = 0f;
            for (var r = o; r < dz.Length; r += n)
            {
                sum += dz[r];
            }
            db[o] = sum;
        }
    }

    // Fewer than 8 channels (LeNet's 6): a column at a time would be one scalar chain per channel over the whole batch.
    // Eight rows are n whole vectors, summed in n accumulators over the blocks of eight rows in order; then each
    // channel adds its lanes (block position ascending) and the last rows, in order.
    private static void NarrowBiasBackward(ReadOnlySpan<float> dz, Span<float> db)
    {
        const int lanes = 8;
        var n = db.Length;
        var block = n * lanes;
        var blocks = dz.Length / block;
        ref readonly var z = ref MemoryMarshal.GetReference(dz);
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default;
        for (var b = 0; b < blocks; b++)
        {
            var r = (nuint)(b * block);
            s0 += Vector256.LoadUnsafe(in z, r);
            if (n > 1)
            {
                s1 += Vector256.LoadUnsafe(in z, r + lanes);
            }
            if (n > 2)
            {
                s2 += Vector256.LoadUnsafe(in z, r + 2 * lanes);
            }
            if (n > 3)
            {
                s3 += Vector256.LoadUnsafe(in z, r + 3 * lanes);
            }
            if (n > 4)
            {
                s4 += Vector256.LoadUnsafe(in z, r + 4 * lanes);
            }
            if (n > 5)
            {
                s5 += Vector256.LoadUnsafe(in z, r + 5 * lanes);
            }
            if (n > 6)
            {
                s6 += Vector256.LoadUnsafe(in z, r + 6 * lanes);
            }
        }
        Span<float> sums = stackalloc float[7 * lanes];
        s0.CopyTo(sums);
        s1.CopyTo(sums[lanes..]);
        s2.CopyTo(sums[(2 * lanes)..]);
        s3.CopyTo(sums[(3 * lanes)..]);
        s4.CopyTo(sums[(4 * lanes)..]);
        s5.CopyTo(sums[(5 * lanes)..]);
        s6.CopyTo(sums[(6 * lanes)..]);
        db.Clear();
        for (var i = 0; i < block; i++)
        {
            db[i % n] += sums[i];
        }
        for (var r = blocks * block; r < dz.Length; r++)
        {
            db[r % n] += dz[r];
        }
    }

    // Element-wise, so any split gives the serial bits. ReLU-like activations stream memory and are worth two cores from
    // about 64K elements; the others cost an exp (or erfc) per element and are worth them much sooner.
    private static int Parts(int length, Epilogue act)
    {
        CheckDefined(act, nameof(act));
        return act == Epilogue.Linear ? 1 : Workers.PartsFor(length, act is Epilogue.Relu or Epilogue.LeakyRelu ? 1 << 15 : 1 << 11);
    }

    internal static void CheckAlpha(Epilogue act, float alpha)
    {
        CheckDefined(act, nameof(act));
        if (act is Epilogue.LeakyRelu or Epilogue.Elu && !(alpha >= 0f && float.IsFinite(alpha)))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"{act} needs a finite alpha ≥ 0 (its derivative is written from the output, which needs y > 0 exactly when x > 0).");
        }
    }

    /// <summary>y = f(x) over one range on the calling thread, for a kernel that fuses the activation into its own pass.</summary>
    internal static unsafe void ForwardRange(float* x, float* y, int length, Epilogue act, float alpha) =>
        ForwardRange(new Job(x, y, null, null, length, act, alpha), 0, length);

    /// <summary>dx = dy·f′ from the output over one range on the calling thread (dx may be dy); not for Gelu or Swish.</summary>
    internal static unsafe void BackwardRange(float* y, float* dy, float* dx, int length, Epilogue act, float alpha) =>
        BackwardRange(new Job(null, y, dy, dx, length, act, alpha), 0, length);

    private static unsafe void ForwardPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Gemm.Range(job.Length, Vector256<float>.Count, part, parts);
        ForwardRange(job, lo, hi);
    }

    private static unsafe void BackwardPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(Job*)state;
        var (lo, hi) = Gemm.Range(job.Length, Vector256<float>.Count, part, parts);
        BackwardRange(job, lo, hi);
    }

    private static unsafe void ForwardRange(in Job job, int lo, int hi)
    {
        var x = job.X;
        var y = job.Y;
        var (act, alpha) = (job.Act, job.Alpha);
        switch (act)
        {
            case Epilogue.Linear:
                if (x != y)
                {
                    new ReadOnlySpan<float>(x + lo, hi - lo).CopyTo(new Span<float>(y + lo, hi - lo));
                }
                return;
            case Epilogue.Relu:
                ReluForward(new ReadOnlySpan<float>(x + lo, hi - lo), new Span<float>(y + lo, hi - lo));
                return;
            case Epilogue.Tanh:
                Map<TanhFunction>(x + lo, y + lo, hi - lo);
                return;
            case Epilogue.Sigmoid:
                Map<SigmoidFunction>(x + lo, y + lo, hi - lo);
                return;
            default:
                for (var i = lo; i < hi; i++)
                {
                    y[i] = Apply(x[i], act, alpha);
                }
                return;
        }
    }

    private static unsafe void BackwardRange(in Job job, int lo, int hi)
    {
        var (act, alpha) = (job.Act, job.Alpha);
        if (act == Epilogue.Relu)
        {
            ReluBackward(new ReadOnlySpan<float>(job.Y + lo, hi - lo), new ReadOnlySpan<float>(job.Dy + lo, hi - lo), new Span<float>(job.Dx + lo, hi - lo));
            return;
        }
        if (BackwardNeedsInput(act))
        {
            for (var i = lo; i < hi; i++)
            {
                job.Dx[i] = GradientFromInput(job.X[i], job.Dy[i], act);
            }
            return;
        }
        for (var i = lo; i < hi; i++)
        {
            job.Dx[i] = GradientFromOutput(job.Y[i], job.Dy[i], act, alpha);
        }
    }

    // y > 0 ? y : 0, so NaN and −0 become +0 in both the vector and the scalar part.
    private static void ReluForward(ReadOnlySpan<float> x, Span<float> y)
    {
        ref readonly var src = ref MemoryMarshal.GetReference(x);
        ref var v = ref MemoryMarshal.GetReference(y);
        var i = 0;
        for (; i <= y.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var s = Vector256.LoadUnsafe(in src, (nuint)i);
            Vector256.ConditionalSelect(Vector256.GreaterThan(s, Vector256<float>.Zero), s, Vector256<float>.Zero).StoreUnsafe(ref v, (nuint)i);
        }
        for (; i < y.Length; i++)
        {
            Unsafe.Add(ref v, i) = Relu(Unsafe.Add(ref Unsafe.AsRef(in src), i));
        }
    }

    private static void ReluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        ref readonly var yv = ref MemoryMarshal.GetReference(y);
        ref readonly var d = ref MemoryMarshal.GetReference(dy);
        ref var o = ref MemoryMarshal.GetReference(dx);
        var i = 0;
        for (; i <= y.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var keep = Vector256.GreaterThan(Vector256.LoadUnsafe(in yv, (nuint)i), Vector256<float>.Zero);
            Vector256.ConditionalSelect(keep, Vector256.LoadUnsafe(in d, (nuint)i), Vector256<float>.Zero).StoreUnsafe(ref o, (nuint)i);
        }
        for (; i < y.Length; i++)
        {
            Unsafe.Add(ref o, i) = Unsafe.Add(ref Unsafe.AsRef(in yv), i) > 0f ? Unsafe.Add(ref Unsafe.AsRef(in d), i) : 0f;
        }
    }

    private static float Relu(float v) => v > 0f ? v : 0f;

    private static float Sigmoid(float v) => SigmoidFunction.Of(Vector256.Create(v)).ToScalar();

    private static float Tanh(float v) => TanhFunction.Of(Vector256.Create(v)).ToScalar();

    // y = f(x) a vector at a time; the tail goes through the same vector code, so every element gets the bits that
    // the scalar Apply gives it.
    private static unsafe void Map<TFunction>(float* x, float* y, int n) where TFunction : IVectorFunction
    {
        var i = 0;
        for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            TFunction.Of(Vector256.Load(x + i)).Store(y + i);
        }
        if (i < n)
        {
            var lanes = stackalloc float[Vector256<float>.Count];
            new Span<float>(x + i, n - i).CopyTo(new Span<float>(lanes, Vector256<float>.Count));
            TFunction.Of(Vector256.Load(lanes)).Store(lanes);
            new Span<float>(lanes, n - i).CopyTo(new Span<float>(y + i, n - i));
        }
    }

    private interface IVectorFunction
    {
        static abstract Vector256<float> Of(Vector256<float> x);
    }

    // tanh in float without libm's scalar call: below |x| = 0.4 the odd Taylor series to x¹³ (truncation under 3e-8
    // of the value), above it 1 − 2/(e^{2|x|} + 1) (no cancellation there; e^{2|x|} = ∞ gives 1), then x's sign.
    // Multiplies and adds are separate operations, so the bits do not depend on FMA contraction.
    private readonly struct TanhFunction : IVectorFunction
    {
        public static Vector256<float> Of(Vector256<float> x)
        {
            var a = Vector256.Abs(x);
            var z = a * a;
            var p = Vector256.Create(21844f / 6081075f);
            p = p * z + Vector256.Create(-1382f / 155925f);
            p = p * z + Vector256.Create(62f / 2835f);
            p = p * z + Vector256.Create(-17f / 315f);
            p = p * z + Vector256.Create(2f / 15f);
            p = p * z + Vector256.Create(-1f / 3f);
            var small = a + a * z * p;
            var large = Vector256<float>.One - Vector256.Create(2f) / (Vector256.Exp(a + a) + Vector256<float>.One);
            var magnitude = Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(0.4f)), small, large);
            return magnitude | (x & Vector256.Create(-0f));
        }
    }

    // 1 / (1 + e^−x): e^−x = ∞ below −88 gives 0, and e^−x → 0 gives 1.
    private readonly struct SigmoidFunction : IVectorFunction
    {
        public static Vector256<float> Of(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-x));
    }

    private static float Gelu(float v)
    {
        var z = (double)v;
        return (float)(0.5 * z * ScalarMath.Erfc(-z * 0.70710678118654752));
    }

    // max(x, 0) + log1p(e^−|x|): no overflow for large x, no loss for very negative x.
    private static float Softplus(float v) =>
        (float)(Math.Max((double)v, 0.0) + ScalarMath.Log1P(Math.Exp(-Math.Abs((double)v))));

    private readonly unsafe struct Job(float* x, float* y, float* dy, float* dx, int length, Epilogue act, float alpha)
    {
        public readonly float* X = x, Y = y, Dy = dy, Dx = dx;
        public readonly int Length = length;
        public readonly Epilogue Act = act;
        public readonly float Alpha = alpha;
    }
}
