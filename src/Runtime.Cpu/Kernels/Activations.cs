using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Runtime.Cpu;

/// <summary>Element-wise activations; mirror of Runtime.Cuda/Kernels/activations.cu.</summary>
public static class Activations
{
    /// <summary>y = f(y) in place: relu max(y, 0), sigmoid 1/(1 + e^−y), tanh.</summary>
    public static void Forward(Span<float> y, Epilogue act)
    {
        switch (act)
        {
            case Epilogue.Linear:
                return;
            case Epilogue.Relu:
                ReluForward(y);
                return;
            case Epilogue.Sigmoid:
                for (var i = 0; i < y.Length; i++)
                {
                    y[i] = Sigmoid(y[i]);
                }
                return;
            case Epilogue.Tanh:
                for (var i = 0; i < y.Length; i++)
                {
                    y[i] = MathF.Tanh(y[i]);
                }
                return;
            default:
                throw UnknownActivation(act);
        }
    }

    /// <summary>
    /// dy ·= f′ in place, with f′ written from the output y = f(z) (so z need not be kept): relu y &gt; 0,
    /// sigmoid y(1 − y), tanh 1 − y².
    /// </summary>
    public static void Backward(ReadOnlySpan<float> y, Span<float> dy, Epilogue act)
    {
        Check.Length(dy.Length, y.Length, nameof(dy));
        switch (act)
        {
            case Epilogue.Linear:
                return;
            case Epilogue.Relu:
                ReluBackward(y, dy);
                return;
            case Epilogue.Sigmoid:
                for (var i = 0; i < y.Length; i++)
                {
                    dy[i] *= y[i] * (1f - y[i]);
                }
                return;
            case Epilogue.Tanh:
                for (var i = 0; i < y.Length; i++)
                {
                    dy[i] *= 1f - y[i] * y[i];
                }
                return;
            default:
                throw UnknownActivation(act);
        }
    }

    /// <summary>db[o] = Σ_r dz[r, o], rows in ascending order (a fixed reduction order; lanes run across o).</summary>
    internal static void BiasBackward(ReadOnlySpan<float> dz, Span<float> db)
    {
        const int lanes = 8;
        var n = db.Length;
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

    // y > 0 ? y : 0, so NaN and −0 become +0 in both the vector and the scalar part.
    private static void ReluForward(Span<float> y)
    {
        ref var v = ref MemoryMarshal.GetReference(y);
        var i = 0;
        for (; i <= y.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var x = Vector256.LoadUnsafe(ref v, (nuint)i);
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, Vector256<float>.Zero).StoreUnsafe(ref v, (nuint)i);
        }
        for (; i < y.Length; i++)
        {
            Unsafe.Add(ref v, i) = Relu(Unsafe.Add(ref v, i));
        }
    }

    private static void ReluBackward(ReadOnlySpan<float> y, Span<float> dy)
    {
        ref readonly var yv = ref MemoryMarshal.GetReference(y);
        ref var d = ref MemoryMarshal.GetReference(dy);
        var i = 0;
        for (; i <= y.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var keep = Vector256.GreaterThan(Vector256.LoadUnsafe(in yv, (nuint)i), Vector256<float>.Zero);
            Vector256.ConditionalSelect(keep, Vector256.LoadUnsafe(ref d, (nuint)i), Vector256<float>.Zero).StoreUnsafe(ref d, (nuint)i);
        }
        for (; i < y.Length; i++)
        {
            Unsafe.Add(ref d, i) = Unsafe.Add(ref Unsafe.AsRef(in yv), i) > 0f ? Unsafe.Add(ref d, i) : 0f;
        }
    }

    private static float Relu(float v) => v > 0f ? v : 0f;

    private static float Sigmoid(float v) => 1f / (1f + MathF.Exp(-v));

    private static ArgumentOutOfRangeException UnknownActivation(Epilogue act) =>
        new(nameof(act), act, "Unknown activation.");
}
